// The mesh read from a ResourceStore (etcd, shared by several replicas) instead of a watched
// directory: every entry is one spec file (parsed by the same parser, errors named by entry key),
// the whole set is validated and built like a directory, and a valid model goes to the applier.
// An invalid set is refused whole and the last good model stays, exactly as with the watcher.
// Changes arrive through the store's watch and are debounced the same way (hold-off, max delay).
// While the store cannot be read, `unreadable` says why and the last good mesh keeps being served.
import { buildLoadedMesh } from '../model/load-mesh';
import type { SpecLimits } from '../spec/limits';
import { loadSpecTexts } from '../spec/load';
import { ParsedSpecCache } from '../spec/parse-cache';
import type { ResourceStore, StoreEntry } from '../store';
import { ReloadingMeshSource, type LoadOutcome, type MeshSourceOptions } from './mesh-source';
import { logger } from '../log';

const log = logger('store-source');

export interface StoreSourceOptions extends MeshSourceOptions {
  store: ResourceStore;
  trustDomain?: string;
  /** Size, document and alias limits for each entry (defaults: DEFAULT_SPEC_LIMITS). */
  limits?: SpecLimits;
}

export class StoreSource extends ReloadingMeshSource {
  /** Entries parsed by earlier loads: a change to one entry parses only that entry. */
  private readonly parseCache = new ParsedSpecCache();
  private closeWatch: (() => Promise<void>) | undefined;

  constructor(private readonly options: StoreSourceOptions) {
    super(options, { location: options.store.location, logField: 'store', log });
  }

  async start(): Promise<boolean> {
    // Watch first, then read: a change made between the two is seen by the read or the watch.
    this.closeWatch = await this.options.store.watch(() => this.schedule());
    await this.reload();
    return this.lastRefused === undefined;
  }

  protected async load(): Promise<LoadOutcome> {
    let entries: StoreEntry[];
    try {
      entries = await this.options.store.readAll();
    } catch (err) {
      return { unreadable: (err as Error).message };
    }
    const loaded = loadSpecTexts(entries.map((entry) => ({ name: entry.key, text: entry.text })), this.options.store.location, this.options.limits, this.parseCache);
    return buildLoadedMesh(loaded, this.options.trustDomain ? { trustDomain: this.options.trustDomain } : {});
  }

  async close(): Promise<void> {
    const stopped = this.stopReloading();
    await this.closeWatch?.();
    await stopped;
  }
}
