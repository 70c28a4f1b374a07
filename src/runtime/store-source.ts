// The mesh read from a ResourceStore (etcd, shared by several replicas) instead of a watched
// directory: every entry is one spec file (parsed by the same parser, errors named by entry key),
// the whole set is validated and built like a directory, and a valid model goes to the applier.
// An invalid set is refused whole and the last good model stays, exactly as with the watcher.
// Changes arrive through the store's watch and are debounced the same way (hold-off, max delay).
//
// While the store is down (its watch lost it, or a read fails), `unreadable` says why (readiness
// reports it), the last good mesh keeps being served, and reads are retried (applying what they
// find) until the store is back, watch included; then the source resyncs by itself. A resync
// that finds exactly the entries last applied (same keys, same revisions) applies nothing, so
// proxies see no new version for no change.
import { buildLoadedMesh } from '../model/load-mesh';
import type { SpecLimits } from '../spec/limits';
import { loadSpecTexts } from '../spec/load';
import { ParsedSpecCache } from '../spec/parse-cache';
import { BuildMemo } from '../model/build-memo';
import type { ResourceStore, StoreEntry } from '../store';
import { ReloadingMeshSource, type LoadOutcome, type MeshSourceOptions } from './mesh-source';
import { logger } from '../log';

const log = logger('store-source');

export interface StoreSourceOptions extends MeshSourceOptions {
  store: ResourceStore;
  trustDomain?: string;
  /** Size, document and alias limits for each entry (defaults: DEFAULT_SPEC_LIMITS). */
  limits?: SpecLimits;
  /** How often reads are retried while the store cannot be read (default 1 s). */
  retryMs?: number;
}

/** What identifies a set of entries: each key with its revision. */
function stampOf(entries: readonly StoreEntry[]): string {
  return JSON.stringify(entries.map((entry) => [entry.key, entry.revision]));
}

export class StoreSource extends ReloadingMeshSource {
  /** Entries parsed by earlier loads: a change to one entry parses only that entry. */
  private readonly parseCache = new ParsedSpecCache();
  /** The last valid build, which a change to a few virtual nodes, services, routers or routes updates. */
  private readonly buildMemo = new BuildMemo();
  private closeWatch: (() => Promise<void>) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Why the store's watch is down, while it is. */
  private watchDown: string | undefined;
  /** The entries of the load being applied, and of the last one applied. */
  private loadingStamp: string | undefined;
  private appliedStamp: string | undefined;

  constructor(private readonly options: StoreSourceOptions) {
    super({
      ...options,
      apply: async (model, revision) => {
        await options.apply(model, revision);
        this.appliedStamp = this.loadingStamp;
      },
    }, { location: options.store.location, logField: 'store', log });
  }

  async start(): Promise<boolean> {
    // Watch first, then read: a change made between the two is seen by the read or the watch.
    this.closeWatch = await this.options.store.watch(() => this.schedule(), (down) => {
      this.watchDown = down;
      if (down === undefined) {
        log.info({ store: this.options.store.location }, 'store watched again; resyncing');
        return;
      }
      this.unreadable = down;
      log.warn({ store: this.options.store.location, reason: down }, 'store down; still serving the last good mesh');
      this.retryLater();
    });
    await this.reload();
    return this.lastRefused === undefined;
  }

  /**
   * Reads succeeding again is not enough to be ready: until the watch is back, changes would only
   * arrive by the retried reads, so the store still counts as down (and keeps being read).
   */
  override async reload(): Promise<void> {
    await super.reload();
    if (this.watchDown !== undefined && this.unreadable === undefined && !this.closed) {
      this.unreadable = this.watchDown;
      this.retryLater();
    }
  }

  protected async load(): Promise<LoadOutcome> {
    let entries: StoreEntry[];
    try {
      entries = await this.options.store.readAll();
    } catch (err) {
      this.retryLater();
      return { unreadable: `store down: ${(err as Error).message}` };
    }
    const stamp = stampOf(entries);
    if (this.current && stamp === this.appliedStamp) return { unchanged: true };
    this.loadingStamp = stamp;
    const loaded = loadSpecTexts(entries.map((entry) => ({ name: entry.key, text: entry.text })), this.options.store.location, this.options.limits, this.parseCache);
    return buildLoadedMesh(loaded, { buildMemo: this.buildMemo, ...(this.options.trustDomain ? { trustDomain: this.options.trustDomain } : {}) });
  }

  // The watch reconnects by itself, but a read can still fail just after (or the watch never
  // noticed): keep reading until one succeeds.
  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.unreadable !== undefined) void this.reload();
    }, this.options.retryMs ?? 1_000);
  }

  async close(): Promise<void> {
    clearTimeout(this.retryTimer);
    const stopped = this.stopReloading();
    await this.closeWatch?.();
    await stopped;
  }
}
