// What the pipeline needs of a mesh source, whatever it reads: the spec directory (MeshWatcher)
// or a shared store such as etcd (StoreSource). Status, readiness and the admin views read these
// fields; the source calls the applier with each valid model and reports refusals itself.
//
// Both sources share ReloadingMeshSource: changes are debounced (a hold-off after the last event,
// with a maximum delay so a steady trickle still gets applied within about a second), loads are
// serialized (a reload during a reload runs once more after it), and a load that fails to read,
// validate or apply is refused whole while the last good model stays in force.
import type { BuildResult } from '../model/build';
import type { MeshModel } from '../model/types';
import { formatError, type SpecError } from '../spec/errors';
import type { Logger } from '../log';

export interface MeshRevision {
  /** Counts applied models since start (1 = the initial load). */
  revision: number;
  model: MeshModel;
  appliedAt: Date;
}

export interface RefusedChange {
  errors: readonly SpecError[];
  refusedAt: Date;
}

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

/** What every source is given: where valid models go, where refusals are reported, the debounce. */
export interface MeshSourceOptions {
  /** Called with each new valid model; an exception here counts as a refusal. */
  apply: (model: MeshModel, revision: number) => void | Promise<void>;
  /** Called with the errors of each refused change. */
  refused?: (change: RefusedChange) => void;
  /** Quiet period after the last change event (default 100 ms). */
  holdOffMs?: number;
  /** Apply at the latest this long after the first pending event (default 500 ms). */
  maxDelayMs?: number;
}

/**
 * One load: the built (or refused) model, why the source cannot be read now, or that it holds
 * exactly what was last applied (nothing to apply, no new revision; any refusal is moot).
 */
export type LoadOutcome = BuildResult | { unreadable: string } | { unchanged: true };

/** Where a source reads from, for error messages (`file`) and log lines (`logField`). */
export interface SourcePlace {
  location: string;
  logField: 'dir' | 'store';
  log: Logger;
}

export abstract class ReloadingMeshSource implements MeshSource {
  current: MeshRevision | undefined;
  lastRefused: RefusedChange | undefined;
  unreadable: string | undefined;
  protected closed = false;
  private timer: NodeJS.Timeout | undefined;
  private firstPendingAt: number | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  protected constructor(private readonly sourceOptions: MeshSourceOptions, private readonly place: SourcePlace) {}

  abstract start(): Promise<boolean>;
  abstract close(): Promise<void>;

  /** Reads the source and builds the model (no applying: the base does that). */
  protected abstract load(): Promise<LoadOutcome>;

  /** True while a reload runs or waits for its hold-off. */
  protected get reloadPending(): boolean {
    return this.running !== undefined || this.firstPendingAt !== undefined;
  }

  /** A change happened: reload after the hold-off, and at the latest after the maximum delay. */
  protected schedule(): void {
    if (this.closed) return;
    const now = Date.now();
    this.firstPendingAt ??= now;
    const latest = this.firstPendingAt + (this.sourceOptions.maxDelayMs ?? 500);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.firstPendingAt = undefined;
      void this.reloadSerialized();
    }, Math.max(0, Math.min(this.sourceOptions.holdOffMs ?? 100, latest - now)));
  }

  /** Loads and applies now (serialized: a reload during a reload runs once more after it). */
  reload(): Promise<void> {
    return this.reloadSerialized();
  }

  /** The reload a scheduled change runs; `reload()` is the one asked for from outside. */
  private reloadSerialized(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.loadGuarded();
        } while (this.again && !this.closed);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Stops pending and running reloads (subclasses close their own watches too). */
  protected async stopReloading(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** No input may end the source: anything thrown while loading is a refused change. */
  private async loadGuarded(): Promise<void> {
    try {
      await this.loadAndApply();
    } catch (err) {
      this.refuse([{ file: this.place.location, message: `could not load the specs: ${err instanceof Error ? err.message : String(err)}` }]);
    }
  }

  private async loadAndApply(): Promise<void> {
    const outcome = await this.load();
    if ('unreadable' in outcome) {
      // Retries of a source that stays unreadable are reported once (an unreachable etcd answers
      // each retry with one of several messages); /readyz shows the latest reason.
      const known = this.unreadable !== undefined;
      this.unreadable = outcome.unreadable;
      if (!known) this.refuse([{ file: this.place.location, message: outcome.unreadable }]);
      return;
    }
    this.unreadable = undefined;
    if ('unchanged' in outcome) {
      this.lastRefused = undefined;
      return;
    }
    if (!outcome.ok) {
      this.refuse(outcome.errors);
      return;
    }
    const revision = (this.current?.revision ?? 0) + 1;
    try {
      await this.sourceOptions.apply(outcome.model, revision);
    } catch (err) {
      this.refuse([{ file: this.place.location, message: `could not apply: ${(err as Error).message}` }]);
      return;
    }
    this.current = { revision, model: outcome.model, appliedAt: new Date() };
    this.lastRefused = undefined;
    this.place.log.info({ revision, endpoints: Object.keys(outcome.model.endpoints).length, [this.place.logField]: this.place.location }, 'mesh applied');
  }

  private refuse(errors: readonly SpecError[]): void {
    const change = { errors, refusedAt: new Date() };
    this.lastRefused = change;
    this.place.log.error({ [this.place.logField]: this.place.location, errors: errors.length, keeping: this.current ? `revision ${this.current.revision}` : 'nothing yet' }, 'mesh change refused');
    for (const error of errors) this.place.log.error(formatError(error));
    this.sourceOptions.refused?.(change);
  }
}
