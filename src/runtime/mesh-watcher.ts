// Watches the spec directory and turns every settled change into a validated model, or a refusal
// (debouncing, serialized reloads and refusals are ReloadingMeshSource's, shared with the store
// source). A change that fails validation is refused as a whole: the last good model stays in
// force and the errors are kept for status.
//
// Only the files the directory's watch (spec-directory-watch.ts) names are read and parsed again,
// and only the part of the model they touch is rebuilt (build-memo.ts).
//
// The directory itself may go away and come back: renamed away and back, replaced by a new one
// (deploy tools), or a symlink re-pointed. A directory watch follows the directory it was opened
// on, not the path, so the watcher also re-checks the directory's identity (device and inode,
// links followed) periodically and when the directory is renamed, and starts over on whatever is
// there now. While the directory cannot be read, `unreadable` says why (readiness).
import { BuildMemo } from '../model/build-memo';
import { buildLoadedMesh } from '../model/load-mesh';
import type { SpecLimits } from '../spec/limits';
import { isSpecFile, loadSpecDir, probeSpecSource, staleSpecFiles } from '../spec/load';
import { ParsedSpecCache } from '../spec/parse-cache';
import { logger } from '../log';
import { ReloadingMeshSource, type LoadOutcome, type MeshSourceOptions } from './mesh-source';
import { SpecDirectoryWatch } from './spec-directory-watch';

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
  /**
   * How often the files are stat-ed to find a change whose event was lost (default 10,000 ms):
   * between audits, files without an event are not stat-ed on a reload.
   */
  auditMs?: number;
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
  private fsWatcher: SpecDirectoryWatch | undefined;
  /** Spec files the last load read through symbolic links: their targets are watched too. */
  private linkedFiles: readonly string[] = [];
  /** Spec files and links the last load listed, for the audit. */
  private listedFiles: readonly string[] = [];
  private auditTimer: NodeJS.Timeout | undefined;
  /** Identity of the source the fs watcher was opened on, or the problem that prevented it. */
  private watchedSource: string | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(private readonly options: MeshWatcherOptions) {
    super(options, { location: options.dir, logField: 'dir', log });
  }

  /** Watches, and loads once. Resolves with whether the initial load was valid. */
  async start(): Promise<boolean> {
    // The watch first: what changes during the first load is an event for the next one, so that
    // one reads only what changed (opened after, it could have missed something: all read again).
    await this.checkSource(false);
    await this.reload();
    this.recheckTimer = setInterval(() => void this.checkSource(true), this.options.recheckMs ?? 1000);
    this.recheckTimer.unref();
    this.auditTimer = setInterval(() => this.audit(), this.options.auditMs ?? 10_000);
    this.auditTimer.unref();
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
        this.closeFsWatcher();
        if (probe.kind !== 'unreadable') this.openFsWatcher();
        // Whatever changed while nothing was watching is caught by reading everything once.
        this.changedFiles = 'all';
        if (reloadOnChange) this.schedule();
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  private openFsWatcher(): void {
    const root = this.options.dir;
    try {
      const watcher: SpecDirectoryWatch = new SpecDirectoryWatch(root, {
        changed: (name) => this.entryChanged(name),
        renamed: () => void this.checkSource(true),
        failed: (message) => {
          log.error({ dir: root, err: message }, 'spec directory watch failed; watching it anew');
          this.watcherLost(watcher);
        },
      });
      this.fsWatcher = watcher;
      watcher.watchLinks(this.linkedFiles);
    } catch (err) {
      // Left unwatched: the next identity check (within recheckMs) tries again.
      log.error({ dir: root, err: (err as Error).message }, 'cannot watch the spec directory; trying again');
    }
  }

  /** An entry changed: a spec file is read again; the directory or a ConfigMap's `..data` link, everything. */
  private entryChanged(name: string | undefined): void {
    if (name === undefined || name === CONFIGMAP_DATA_LINK) {
      this.changedFiles = 'all';
      this.schedule();
    } else if (isSpecFile(name)) {
      if (this.changedFiles !== 'all') this.changedFiles.add(name);
      this.schedule();
    }
  }

  /**
   * Finds files that changed, appeared or went away without an event (a queue overflow, a file
   * system that does not report changes made elsewhere) and reloads them. Not while a reload is
   * pending or running: what it reads would be compared with a load half done.
   */
  private audit(): void {
    if (this.closed || !this.fsWatcher || this.reloadPending) return;
    const stale = staleSpecFiles(this.options.dir, this.parseCache, this.listedFiles);
    if (stale.length === 0) return;
    log.warn({ dir: this.options.dir, files: stale.slice(0, 10), count: stale.length }, 'spec files changed without a watch event; reloading them');
    if (this.changedFiles !== 'all') for (const name of stale) this.changedFiles.add(name);
    this.schedule();
  }

  private watcherLost(watcher: SpecDirectoryWatch): void {
    if (this.fsWatcher !== watcher) return;
    this.fsWatcher = undefined;
    this.watchedSource = undefined;
    this.changedFiles = 'all';
    watcher.close();
    void this.checkSource(true);
  }

  private closeFsWatcher(): void {
    const watcher = this.fsWatcher;
    this.fsWatcher = undefined;
    watcher?.close();
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
      // Files without an event are taken as they were read: the watch names every change to a
      // regular file in the directory, and the audit catches what it missed.
      const loaded = await loadSpecDir(this.options.dir, this.options.limits, this.parseCache, changed !== 'all' ? changed : undefined, this.fsWatcher ? 'trust-watch' : 'stat');
      this.listedFiles = loaded.files ?? [];
      // Linked files' targets are outside the directory's watch.
      this.linkedFiles = loaded.linkedFiles ?? [];
      this.fsWatcher?.watchLinks(this.linkedFiles);
      return buildLoadedMesh(loaded, { buildMemo: this.buildMemo, ...(this.options.trustDomain ? { trustDomain: this.options.trustDomain } : {}) });
    } catch (err) {
      this.changedFiles = 'all';
      throw err;
    }
  }

  async close(): Promise<void> {
    const stopped = this.stopReloading(); // marks the watcher closed at once
    clearInterval(this.recheckTimer);
    clearInterval(this.auditTimer);
    await this.checking;
    this.closeFsWatcher();
    await stopped;
  }
}
