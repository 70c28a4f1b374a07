// Watches the spec directory and turns every settled change into a validated model, or a refusal.
// Changes are debounced (a hold-off after the last file event, with a maximum delay so a steady
// trickle of writes still gets applied within about a second). A change that fails validation is
// refused as a whole: the last good model stays in force and the errors are kept for status.
import { watch, type FSWatcher } from 'chokidar';
import { loadMesh } from '../model/load-mesh';
import type { MeshModel } from '../model/types';
import { formatError, type SpecError } from '../spec/errors';
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
  dir: string;
  trustDomain?: string;
  /** Called with each new valid model; an exception here counts as a refusal. */
  apply: (model: MeshModel, revision: number) => void | Promise<void>;
  /** Called with the errors of each refused change. */
  refused?: (change: RefusedChange) => void;
  /** Quiet period after the last file event (default 100 ms). */
  holdOffMs?: number;
  /** Apply at the latest this long after the first pending event (default 500 ms). */
  maxDelayMs?: number;
}

export class MeshWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private firstPendingAt: number | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  current: MeshRevision | undefined;
  lastRefused: RefusedChange | undefined;

  constructor(private readonly options: MeshWatcherOptions) {}

  /** Loads once, then watches. Resolves with whether the initial load was valid. */
  async start(): Promise<boolean> {
    await this.reload();
    this.watcher = watch(this.options.dir, { ignoreInitial: true, depth: 0 });
    this.watcher.on('all', (_event, file) => {
      if (/\.(ya?ml|json)$/i.test(file) || file === this.options.dir) this.schedule();
    });
    this.watcher.on('error', (err) => log.error({ dir: this.options.dir, err: (err as Error).message }, 'spec directory watch failed'));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    return this.lastRefused === undefined;
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
      do {
        this.again = false;
        await this.loadOnce();
      } while (this.again && !this.closed);
      this.running = undefined;
    })();
    return this.running;
  }

  private async loadOnce(): Promise<void> {
    const result = await loadMesh(this.options.dir, this.options.trustDomain ? { trustDomain: this.options.trustDomain } : {});
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
    await this.watcher?.close();
    await this.running;
  }
}
