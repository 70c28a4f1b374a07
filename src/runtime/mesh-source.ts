// What the pipeline needs of a mesh source, whatever it reads: the spec directory (MeshWatcher)
// or a shared store such as etcd (StoreSource). Status, readiness and the admin views read these
// fields; the source calls the applier with each valid model and reports refusals itself.
import type { MeshRevision, RefusedChange } from './mesh-watcher';

export interface MeshSource {
  /** Loads once, then follows changes. Resolves with whether the initial load was valid. */
  start(): Promise<boolean>;
  /** Loads and applies now. */
  reload(): Promise<void>;
  close(): Promise<void>;
  /** The last applied model, if any. */
  readonly current: MeshRevision | undefined;
  /** The last refused change, until a valid one is applied. */
  readonly lastRefused: RefusedChange | undefined;
  /** Why the source cannot be read right now; undefined while it can. */
  readonly unreadable: string | undefined;
}
