// Watches the spec directory and turns every settled change into a validated model, or a refusal
// (debouncing, serialized reloads and refusals are ReloadingMeshSource's, shared with the store
// source). A change that fails validation is refused as a whole: the last good model stays in
// force and the errors are kept for status.
//
// The directory itself may go away and come back: renamed away and back, replaced by a new one
// (deploy tools), or a symlink re-pointed. chokidar stops for good when its root disappears and
// never notices a re-pointed symlink, so the watcher also re-checks the directory's identity
// (device and inode, links followed) periodically and after the root vanishes, and starts over on
// whatever is there now. While the directory cannot be read, `unreadable` says why (readiness).
import { watch, type FSWatcher } from 'chokidar';
import * as path from 'node:path';
import { BuildMemo } from '../model/build-memo';
import { loadMesh } from '../model/load-mesh';
import type { SpecLimits } from '../spec/limits';
import { isSpecFile, probeSpecSource } from '../spec/load';
import { ParsedSpecCache } from '../spec/parse-cache';
import { logger } from '../log';
import { ReloadingMeshSource, type LoadOutcome, type MeshSourceOptions } from './mesh-source';

export type { MeshRevision, RefusedChange } from './mesh-source';

const log = logger('mesh-watcher');

export interface MeshWatcherOptions extends MeshSourceOptions {
  /** The spec directory (or a single spec file). */
  dir: string;
  trustDomain?: string;
  /** Size, document and alias limits for spec files (defaults: DEFAULT_SPEC_LIMITS). */
  limits?: SpecLimits;
  /** How often the directory's identity is re-checked (default 1000 ms). */
  recheckMs?: number;
}

// A ConfigMap volume's atomic update renames a new `..data` link into place.
const CONFIGMAP_DATA_LINK = '..data';

export class MeshWatcher extends ReloadingMeshSource {
  /** Files parsed by earlier loads: a change to one file parses only that file. */
  private readonly parseCache = new ParsedSpecCache();
  /** The last valid build: a change rebuilds only the part of the model it touches. */
  private readonly buildMemo = new BuildMemo();
  /**
   * Spec files the fs watcher saw change since the last load began: only these are read again.
   * 'all' when that is not known: the first load, a watch (re)opened, the directory or a
   * ConfigMap's `..data` link replaced, a load that failed.
   */
  private changedFiles: Set<string> | 'all' = 'all';
  private fsWatcher: FSWatcher | undefined;
  /** Identity of the source the fs watcher was opened on, or the problem that prevented it. */
  private watchedSource: string | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(private readonly options: MeshWatcherOptions) {
    super(options, { location: options.dir, logField: 'dir', log });
  }

  /** Loads once, then watches. Resolves with whether the initial load was valid. */
  async start(): Promise<boolean> {
    await this.reload();
    await this.checkSource(false);
    this.recheckTimer = setInterval(() => void this.checkSource(true), this.options.recheckMs ?? 1000);
    this.recheckTimer.unref();
    return this.lastRefused === undefined;
  }

  /**
   * Opens the fs watcher again when the source has changed identity or the watcher was lost, and
   * (when `reloadOnChange`) reloads, so a directory that returns is picked up by itself.
   */
  private checkSource(reloadOnChange: boolean): Promise<void> {
    this.checking ??= (async () => {
      try {
        const probe = await probeSpecSource(this.options.dir);
        const source = probe.kind === 'unreadable' ? `unreadable: ${probe.problem}` : probe.identity;
        if (this.closed || (source === this.watchedSource && (this.fsWatcher || probe.kind === 'unreadable'))) return;
        if (this.watchedSource !== undefined) log.warn({ dir: this.options.dir, now: source }, 'spec directory replaced, gone or back: watching it anew');
        this.watchedSource = source;
        await this.closeFsWatcher();
        if (probe.kind !== 'unreadable') await this.openFsWatcher();
        // Whatever changed while nothing was watching is caught by reading everything once.
        this.changedFiles = 'all';
        if (reloadOnChange) this.schedule();
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  private async openFsWatcher(): Promise<void> {
    const root = this.options.dir;
    const watcher = watch(root, { ignoreInitial: true, depth: 0 });
    this.fsWatcher = watcher;
    watcher.on('all', (event, file) => {
      if (file === root && (event === 'unlinkDir' || event === 'unlink')) {
        // chokidar stops watching a root that disappears; find out what is there now.
        this.watcherLost(watcher);
        return;
      }
      const name = path.basename(file);
      if (file === root || name === CONFIGMAP_DATA_LINK) {
        this.changedFiles = 'all';
        this.schedule();
      } else if (isSpecFile(name)) {
        if (this.changedFiles !== 'all') this.changedFiles.add(name);
        this.schedule();
      }
    });
    watcher.on('error', (err) => {
      log.error({ dir: root, err: (err as Error).message }, 'spec directory watch failed; watching it anew');
      this.watcherLost(watcher);
    });
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  private watcherLost(watcher: FSWatcher): void {
    if (this.fsWatcher !== watcher) return;
    this.fsWatcher = undefined;
    this.watchedSource = undefined;
    this.changedFiles = 'all';
    void watcher.close();
    void this.checkSource(true);
  }

  private async closeFsWatcher(): Promise<void> {
    const watcher = this.fsWatcher;
    this.fsWatcher = undefined;
    await watcher?.close();
  }

  /** Loads and applies now, reading every file: a reload asked for from outside does not wait for the watcher's events. */
  override reload(): Promise<void> {
    this.changedFiles = 'all';
    return super.reload();
  }

  protected async load(): Promise<LoadOutcome> {
    const changed = this.changedFiles;
    this.changedFiles = new Set();
    try {
      const probe = await probeSpecSource(this.options.dir);
      if (probe.kind === 'unreadable') {
        this.changedFiles = 'all';
        return { unreadable: probe.problem };
      }
      return await loadMesh(this.options.dir, {
        parseCache: this.parseCache,
        buildMemo: this.buildMemo,
        ...(changed !== 'all' ? { changedFiles: changed } : {}),
        ...(this.options.trustDomain ? { trustDomain: this.options.trustDomain } : {}),
        ...(this.options.limits ? { limits: this.options.limits } : {}),
      });
    } catch (err) {
      this.changedFiles = 'all';
      throw err;
    }
  }

  async close(): Promise<void> {
    const stopped = this.stopReloading(); // marks the watcher closed at once
    clearInterval(this.recheckTimer);
    await this.checking;
    await this.closeFsWatcher();
    await stopped;
  }
}
