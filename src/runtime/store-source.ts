// The mesh read from a ResourceStore (etcd, shared by several replicas) instead of a watched
// directory: every entry is one spec file (parsed by the same parser, errors named by entry key),
// the whole set is validated and built like a directory, and a valid model goes to the applier.
// An invalid set is refused whole and the last good model stays, exactly as with the watcher.
// Changes arrive through the store's watch and are debounced the same way (hold-off, max delay).
// While the store cannot be read, `unreadable` says why and the last good mesh keeps being served.
import { buildLoadedMesh } from '../model/load-mesh';
import type { MeshModel } from '../model/types';
import { formatError, type SpecError } from '../spec/errors';
import type { SpecLimits } from '../spec/limits';
import { loadSpecTexts } from '../spec/load';
import { ParsedSpecCache } from '../spec/parse-cache';
import type { ResourceStore, StoreEntry } from '../store';
import type { MeshSource } from './mesh-source';
import type { MeshRevision, RefusedChange } from './mesh-watcher';
import { logger } from '../log';

const log = logger('store-source');

export interface StoreSourceOptions {
  store: ResourceStore;
  trustDomain?: string;
  /** Size, document and alias limits for each entry (defaults: DEFAULT_SPEC_LIMITS). */
  limits?: SpecLimits;
  /** Called with each new valid model; an exception here counts as a refusal. */
  apply: (model: MeshModel, revision: number) => void | Promise<void>;
  /** Called with the errors of each refused change. */
  refused?: (change: RefusedChange) => void;
  /** Quiet period after the last change event (default 100 ms). */
  holdOffMs?: number;
  /** Apply at the latest this long after the first pending event (default 500 ms). */
  maxDelayMs?: number;
}

export class StoreSource implements MeshSource {
  /** Entries parsed by earlier loads: a change to one entry parses only that entry. */
  private readonly parseCache = new ParsedSpecCache();
  private closeWatch: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private firstPendingAt: number | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  current: MeshRevision | undefined;
  lastRefused: RefusedChange | undefined;
  unreadable: string | undefined;

  constructor(private readonly options: StoreSourceOptions) {}

  async start(): Promise<boolean> {
    // Watch first, then read: a change made between the two is seen by the read or the watch.
    this.closeWatch = await this.options.store.watch(() => this.schedule());
    await this.reload();
    return this.lastRefused === undefined;
  }

  private schedule(): void {
    if (this.closed) return;
    const now = Date.now();
    this.firstPendingAt ??= now;
    const latest = this.firstPendingAt + (this.options.maxDelayMs ?? 500);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.firstPendingAt = undefined;
      void this.reload();
    }, Math.max(0, Math.min(this.options.holdOffMs ?? 100, latest - now)));
  }

  /** Loads and applies now (serialized: a reload during a reload runs once more after it). */
  reload(): Promise<void> {
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

  /** No input may end the source: anything thrown while loading is a refused change. */
  private async loadGuarded(): Promise<void> {
    try {
      await this.loadOnce();
    } catch (err) {
      this.refuse([{ file: this.options.store.location, message: `could not load the specs: ${err instanceof Error ? err.message : String(err)}` }]);
    }
  }

  private async loadOnce(): Promise<void> {
    const location = this.options.store.location;
    let entries: StoreEntry[];
    try {
      entries = await this.options.store.readAll();
    } catch (err) {
      this.unreadable = (err as Error).message;
      this.refuse([{ file: location, message: this.unreadable }]);
      return;
    }
    this.unreadable = undefined;
    const loaded = loadSpecTexts(entries.map((entry) => ({ name: entry.key, text: entry.text })), location, this.options.limits, this.parseCache);
    const result = buildLoadedMesh(loaded, this.options.trustDomain ? { trustDomain: this.options.trustDomain } : {});
    if (!result.ok) {
      this.refuse(result.errors);
      return;
    }
    const revision = (this.current?.revision ?? 0) + 1;
    try {
      await this.options.apply(result.model, revision);
    } catch (err) {
      this.refuse([{ file: location, message: `could not apply: ${(err as Error).message}` }]);
      return;
    }
    this.current = { revision, model: result.model, appliedAt: new Date() };
    this.lastRefused = undefined;
    log.info({ revision, endpoints: Object.keys(result.model.endpoints).length, store: location }, 'mesh applied');
  }

  private refuse(errors: readonly SpecError[]): void {
    const change = { errors, refusedAt: new Date() };
    this.lastRefused = change;
    log.error({ store: this.options.store.location, errors: errors.length, keeping: this.current ? `revision ${this.current.revision}` : 'nothing yet' }, 'mesh change refused');
    for (const error of errors) log.error(formatError(error));
    this.options.refused?.(change);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.closeWatch?.();
    await this.running;
  }
}
