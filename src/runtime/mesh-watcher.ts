// Watches the spec directory and turns every settled change into a validated model, or a refusal.
// Changes are debounced (a hold-off after the last file event, with a maximum delay so a steady
// trickle of writes still gets applied within about a second). A change that fails validation is
// refused as a whole: the last good model stays in force and the errors are kept for status.
//
// The directory itself may go away and come back: renamed away and back, replaced by a new one
// (deploy tools), or a symlink re-pointed. chokidar stops for good when its root disappears and
// never notices a re-pointed symlink, so the watcher also re-checks the directory's identity
// (device and inode, links followed) periodically and after the root vanishes, and starts over on
// whatever is there now. While the directory cannot be read, `unreadable` says why (readiness).
import { watch, type FSWatcher } from 'chokidar';
import * as path from 'node:path';
import { loadMesh } from '../model/load-mesh';
import type { MeshModel } from '../model/types';
import { formatError, type SpecError } from '../spec/errors';
import type { SpecLimits } from '../spec/limits';
import { isSpecFile, probeSpecSource } from '../spec/load';
import { ParsedSpecCache } from '../spec/parse-cache';
import { logger } from '../log';

const log = logger('mesh-watcher');

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

export interface MeshWatcherOptions {
  /** The spec directory (or a single spec file). */
  dir: string;
  trustDomain?: string;
  /** Size, document and alias limits for spec files (defaults: DEFAULT_SPEC_LIMITS). */
  limits?: SpecLimits;
  /** Called with each new valid model; an exception here counts as a refusal. */
  apply: (model: MeshModel, revision: number) => void | Promise<void>;
  /** Called with the errors of each refused change. */
  refused?: (change: RefusedChange) => void;
  /** Quiet period after the last file event (default 100 ms). */
  holdOffMs?: number;
  /** Apply at the latest this long after the first pending event (default 500 ms). */
  maxDelayMs?: number;
  /** How often the directory's identity is re-checked (default 1000 ms). */
  recheckMs?: number;
}

// A ConfigMap volume's atomic update renames a new `..data` link into place.
const CONFIGMAP_DATA_LINK = '..data';

export class MeshWatcher {
  /** Files parsed by earlier loads: a change to one file parses only that file. */
  private readonly parseCache = new ParsedSpecCache();
  private fsWatcher: FSWatcher | undefined;
  /** Identity of the source the fs watcher was opened on, or the problem that prevented it. */
  private watchedSource: string | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private firstPendingAt: number | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  current: MeshRevision | undefined;
  lastRefused: RefusedChange | undefined;
  /** Why the spec directory cannot be read right now; undefined while it can. */
  unreadable: string | undefined;

  constructor(private readonly options: MeshWatcherOptions) {}

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
      if (file === root || isSpecFile(name) || name === CONFIGMAP_DATA_LINK) this.schedule();
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
    void watcher.close();
    void this.checkSource(true);
  }

  private async closeFsWatcher(): Promise<void> {
    const watcher = this.fsWatcher;
    this.fsWatcher = undefined;
    await watcher?.close();
  }

  private schedule(): void {
    if (this.closed) return;
    const now = Date.now();
    this.firstPendingAt ??= now;
    const holdOff = this.options.holdOffMs ?? 100;
    const latest = this.firstPendingAt + (this.options.maxDelayMs ?? 500);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.firstPendingAt = undefined;
      void this.reload();
    }, Math.max(0, Math.min(holdOff, latest - now)));
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

  /** No input may end the watcher: anything thrown while loading is a refused change. */
  private async loadGuarded(): Promise<void> {
    try {
      await this.loadOnce();
    } catch (err) {
      this.refuse([{ file: this.options.dir, message: `could not load the specs: ${err instanceof Error ? err.message : String(err)}` }]);
    }
  }

  private async loadOnce(): Promise<void> {
    const probe = await probeSpecSource(this.options.dir);
    if (probe.kind === 'unreadable') {
      this.unreadable = probe.problem;
      this.refuse([{ file: this.options.dir, message: probe.problem }]);
      return;
    }
    this.unreadable = undefined;
    const result = await loadMesh(this.options.dir, {
      parseCache: this.parseCache,
      ...(this.options.trustDomain ? { trustDomain: this.options.trustDomain } : {}),
      ...(this.options.limits ? { limits: this.options.limits } : {}),
    });
    if (!result.ok) {
      this.refuse(result.errors);
      return;
    }
    const revision = (this.current?.revision ?? 0) + 1;
    try {
      await this.options.apply(result.model, revision);
    } catch (err) {
      this.refuse([{ file: this.options.dir, message: `could not apply: ${(err as Error).message}` }]);
      return;
    }
    this.current = { revision, model: result.model, appliedAt: new Date() };
    this.lastRefused = undefined;
    log.info({ revision, endpoints: Object.keys(result.model.endpoints).length, dir: this.options.dir }, 'mesh applied');
  }

  private refuse(errors: readonly SpecError[]): void {
    const change = { errors, refusedAt: new Date() };
    this.lastRefused = change;
    log.error({ dir: this.options.dir, errors: errors.length, keeping: this.current ? `revision ${this.current.revision}` : 'nothing yet' }, 'mesh change refused');
    for (const error of errors) log.error(formatError(error));
    this.options.refused?.(change);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.recheckTimer);
    await this.checking;
    await this.closeFsWatcher();
    await this.running;
  }
}
