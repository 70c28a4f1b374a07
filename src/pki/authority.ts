// The trust authority: the CA that issues now plus, during a rollover, the previous one, and the
// trust bundle that carries both. It tracks which CA signed every live leaf so the previous CA
// leaves the bundle only once no leaf still served depends on it.
//
// State directory layout (all 0700 directories, keys 0600):
//   <stateDir>/ca/state.json        {"current":"ca-2","previous":"ca-1"}  (previous only mid-rollover)
//   <stateDir>/ca/ca-N/ca.crt, ca.key
//   <stateDir>/ca/ca-N/leaves-valid-until   latest notAfter this CA may have issued (ISO date)
// The last file lets a restarted meshd know that leaves it no longer tracks may still be in use.
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { logger, type Logger } from '../log';
import { ensurePrivateDir, writeFileAtomic } from '../util/atomic-file';
import { CertificateAuthority, type CaKeyAlgorithm } from './ca';
import { DEFAULT_LEAF_TTL_MS, issueLeaf } from './issuer';
import { contentVersion, type IssuedLeaf, type MeshEndpoint, type TrustBundleMaterial } from './types';

const STATE_FILE = 'state.json';
const LEAVES_VALID_UNTIL_FILE = 'leaves-valid-until';
const GENERATION = /^ca-(\d+)$/;
/** How far past a leaf's notAfter the persisted mark reaches, so it is rewritten rarely. */
const MARK_LOOKAHEAD_MAX_MS = 3600 * 1000;

export interface TrustAuthorityOptions {
  /** meshd's state directory; the CAs live in `<stateDir>/ca/`. */
  stateDir: string;
  /** SPIFFE trust domain of issued leaves. */
  trustDomain: string;
  /** Key algorithm for new CAs (default ecdsa-p256). */
  keyAlgorithm?: CaKeyAlgorithm;
  /** Lifetime of new CAs (default about 10 years). */
  caValidityMs?: number;
  /**
   * Finish a rollover by itself this long after the last leaf depending on the previous CA was
   * released or expired (time for proxies to receive their new leaves). Unset: only finishRollover().
   */
  autoFinishGraceMs?: number;
  /** Logger (default `logger('pki-authority')`). */
  log?: Logger;
}

/** Where a rollover stands. */
export interface RolloverStatus {
  /** True between startRollover() and the previous CA leaving the bundle. */
  inProgress: boolean;
  /** The CA issuing new leaves. */
  currentCaId: string;
  /** The CA being retired, while a rollover is in progress. */
  previousCaId?: string;
  /** Live leaves (tracked by this process, not expired) signed by the previous CA. */
  dependentLeaves: number;
  /** Leaves from before a restart, which this process cannot track, may be valid until then. */
  untrackedLeavesValidUntil?: Date;
}

export interface TrustAuthorityEvents {
  /** The trust bundle's contents changed (rollover started or finished). */
  trustBundle: [bundle: TrustBundleMaterial];
  /** A rollover started: new leaves now come from `currentCaId`. */
  rolloverStarted: [status: RolloverStatus];
  /** A rollover finished: `previousCaId` is no longer trusted. */
  rolloverFinished: [event: { currentCaId: string; previousCaId: string }];
}

interface Generation {
  name: string;
  ca: CertificateAuthority;
  /** Mark read at open: leaves issued before this process started may live until then. */
  untrackedUntil: number;
  /** Mark known to be on disk. */
  persistedMark: number;
  /** Writes of the mark, chained so a later (larger) mark lands last. */
  markWrite: Promise<void>;
  pendingMark: number;
}

interface LiveLeaf {
  caId: string;
  notAfter: number;
}

export class TrustAuthority extends EventEmitter<TrustAuthorityEvents> {
  readonly trustDomain: string;
  readonly #options: TrustAuthorityOptions;
  readonly #caRoot: string;
  readonly #log: Logger;
  #current: Generation;
  #previous: Generation | undefined;
  #bundle: TrustBundleMaterial;
  readonly #live = new Map<string, LiveLeaf>();
  #changes: Promise<unknown> = Promise.resolve();
  #autoFinishTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: TrustAuthorityOptions, current: Generation, previous: Generation | undefined) {
    super();
    this.#options = options;
    this.trustDomain = options.trustDomain;
    this.#caRoot = path.join(options.stateDir, 'ca');
    this.#log = options.log ?? logger('pki-authority');
    this.#current = current;
    this.#previous = previous;
    this.#bundle = this.#buildBundle();
  }

  /** Opens the authority in `stateDir`, creating the first CA there on first use. */
  static async open(options: TrustAuthorityOptions): Promise<TrustAuthority> {
    const caRoot = path.join(options.stateDir, 'ca');
    await fs.mkdir(options.stateDir, { recursive: true, mode: 0o700 });
    await ensurePrivateDir(caRoot);
    const stateFile = path.join(caRoot, STATE_FILE);
    const state = await readState(stateFile);
    const log = options.log ?? logger('pki-authority');
    const load = (name: string): Promise<Generation> => loadGeneration(caRoot, name, options, log);
    let authority: TrustAuthority;
    if (!state) {
      const first = await load('ca-1');
      await writeFileAtomic(stateFile, JSON.stringify({ current: first.name }) + '\n', 0o600);
      authority = new TrustAuthority(options, first, undefined);
    } else {
      authority = new TrustAuthority(options, await load(state.current), state.previous ? await load(state.previous) : undefined);
      if (authority.#previous) {
        log.info({ currentCaId: authority.#current.ca.id, previousCaId: authority.#previous.ca.id }, 'resuming CA rollover');
        authority.#scheduleAutoFinish();
      }
    }
    return authority;
  }

  /** The CA that signs new leaves. */
  get currentCa(): CertificateAuthority {
    return this.#current.ca;
  }

  /** The CA being retired, during a rollover. */
  get previousCa(): CertificateAuthority | undefined {
    return this.#previous?.ca;
  }

  /** Current CA, then the previous one during a rollover. */
  trustBundle(): TrustBundleMaterial {
    return this.#bundle;
  }

  /** Issues a leaf from the current CA and tracks it as live until release() or expiry. */
  async issue(endpoint: MeshEndpoint, options: { ttlMs?: number } = {}): Promise<IssuedLeaf> {
    const generation = this.#current;
    const ttlMs = options.ttlMs ?? DEFAULT_LEAF_TTL_MS;
    const leaf = await issueLeaf(generation.ca, endpoint, { trustDomain: this.trustDomain, ttlMs });
    await this.#recordMark(generation, leaf.notAfter.getTime(), ttlMs);
    this.#live.set(leaf.serial, { caId: leaf.caId, notAfter: leaf.notAfter.getTime() });
    return leaf;
  }

  /** The leaf with this serial is no longer served (replaced or its endpoint gone). */
  release(serial: string): void {
    const leaf = this.#live.get(serial);
    if (!leaf) return;
    this.#live.delete(serial);
    if (this.#previous && leaf.caId === this.#previous.ca.id) this.#scheduleAutoFinish();
  }

  rolloverStatus(): RolloverStatus {
    const now = Date.now();
    const previous = this.#previous;
    let dependentLeaves = 0;
    if (previous) {
      for (const [serial, leaf] of this.#live) {
        if (leaf.notAfter <= now) this.#live.delete(serial); // expired: depends on nothing any more
        else if (leaf.caId === previous.ca.id) dependentLeaves++;
      }
    }
    const status: RolloverStatus = { inProgress: previous !== undefined, currentCaId: this.#current.ca.id, dependentLeaves };
    if (previous) status.previousCaId = previous.ca.id;
    if (previous && previous.untrackedUntil > now) status.untrackedLeavesValidUntil = new Date(previous.untrackedUntil);
    return status;
  }

  /**
   * Starts a CA rollover: creates and persists a new CA, which signs every leaf from now on; the
   * bundle then trusts both CAs. Throws if a rollover is already in progress.
   */
  startRollover(): Promise<RolloverStatus> {
    return this.#serialize(async () => {
      if (this.#previous) throw new Error(`CA rollover already in progress (CA ${this.#previous.ca.id} is still trusted); finish it first`);
      const nextName = `ca-${Number(GENERATION.exec(this.#current.name)![1]) + 1}`;
      const next = await loadGeneration(this.#caRoot, nextName, this.#options, this.#log);
      await writeFileAtomic(path.join(this.#caRoot, STATE_FILE), JSON.stringify({ current: next.name, previous: this.#current.name }) + '\n', 0o600);
      this.#previous = this.#current;
      this.#current = next;
      this.#bundle = this.#buildBundle();
      const status = this.rolloverStatus();
      this.#log.info({ currentCaId: next.ca.id, previousCaId: this.#previous.ca.id }, 'CA rollover started');
      this.emit('trustBundle', this.#bundle);
      this.emit('rolloverStarted', status);
      this.#scheduleAutoFinish();
      return status;
    });
  }

  /**
   * Drops the previous CA from the bundle if no live leaf depends on it (or `force`). Returns
   * whether the rollover is finished; false leaves everything as it was.
   */
  finishRollover(options: { force?: boolean } = {}): Promise<boolean> {
    return this.#serialize(async () => {
      const status = this.rolloverStatus();
      const previous = this.#previous;
      if (!previous) return true;
      if (!options.force && (status.dependentLeaves > 0 || status.untrackedLeavesValidUntil)) {
        this.#log.info({ previousCaId: previous.ca.id, dependentLeaves: status.dependentLeaves, untrackedLeavesValidUntil: status.untrackedLeavesValidUntil?.toISOString() }, 'CA rollover not finished: leaves still depend on the previous CA');
        return false;
      }
      await writeFileAtomic(path.join(this.#caRoot, STATE_FILE), JSON.stringify({ current: this.#current.name }) + '\n', 0o600);
      this.#previous = undefined;
      this.#bundle = this.#buildBundle();
      for (const [serial, leaf] of this.#live) if (leaf.caId === previous.ca.id) this.#live.delete(serial);
      // The retired key has no further use; remove it (state.json no longer names it).
      await fs.rm(previous.ca.dir, { recursive: true, force: true });
      this.#log.info({ currentCaId: this.#current.ca.id, previousCaId: previous.ca.id }, 'CA rollover finished');
      this.emit('trustBundle', this.#bundle);
      this.emit('rolloverFinished', { currentCaId: this.#current.ca.id, previousCaId: previous.ca.id });
      return true;
    });
  }

  /** Stops the auto-finish timer; pending state changes complete first. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#autoFinishTimer);
    this.#autoFinishTimer = undefined;
    await this.#changes.catch(() => undefined);
  }

  #serialize<T>(change: () => Promise<T>): Promise<T> {
    const result = this.#changes.then(change, change);
    this.#changes = result.catch(() => undefined);
    return result;
  }

  #buildBundle(): TrustBundleMaterial {
    const cas = this.#previous ? [this.#current.ca, this.#previous.ca] : [this.#current.ca];
    const trustedCaPem = cas.map((ca) => ca.certificatePem).join('');
    return { trustedCaPem, caSerials: cas.map((ca) => ca.serial), version: contentVersion(trustedCaPem) };
  }

  /** Re-checks when the previous CA could be dropped: after the grace, or when its leaves expire. */
  #scheduleAutoFinish(): void {
    const grace = this.#options.autoFinishGraceMs;
    if (grace === undefined || !this.#previous || this.#closed) return;
    clearTimeout(this.#autoFinishTimer);
    const status = this.rolloverStatus();
    let delay = grace;
    if (status.dependentLeaves > 0 || status.untrackedLeavesValidUntil) {
      const previousId = this.#previous.ca.id;
      let latest = status.untrackedLeavesValidUntil?.getTime() ?? 0;
      for (const leaf of this.#live.values()) if (leaf.caId === previousId) latest = Math.max(latest, leaf.notAfter);
      delay = Math.max(latest - Date.now(), 0) + grace;
    }
    this.#autoFinishTimer = setTimeout(() => {
      this.#autoFinishTimer = undefined;
      void this.finishRollover().then(
        (finished) => { if (!finished) this.#scheduleAutoFinish(); },
        (err: Error) => this.#log.error({ err: err.message }, 'finishing CA rollover failed'),
      );
    }, Math.min(delay, 2 ** 31 - 1));
  }

  async #recordMark(generation: Generation, notAfter: number, ttlMs: number): Promise<void> {
    if (notAfter <= generation.persistedMark) return;
    if (notAfter > generation.pendingMark) {
      const mark = notAfter + Math.min(ttlMs, MARK_LOOKAHEAD_MAX_MS);
      generation.pendingMark = mark;
      const file = path.join(generation.ca.dir, LEAVES_VALID_UNTIL_FILE);
      generation.markWrite = generation.markWrite.then(async () => {
        await writeFileAtomic(file, new Date(mark).toISOString() + '\n', 0o600);
        generation.persistedMark = Math.max(generation.persistedMark, mark);
      });
    }
    await generation.markWrite;
  }
}

async function loadGeneration(caRoot: string, name: string, options: TrustAuthorityOptions, log: Logger): Promise<Generation> {
  const dir = path.join(caRoot, name);
  const caOptions = { dir, trustDomain: options.trustDomain, log, ...(options.keyAlgorithm ? { keyAlgorithm: options.keyAlgorithm } : {}), ...(options.caValidityMs ? { validityMs: options.caValidityMs } : {}) };
  const ca = await CertificateAuthority.loadOrCreate(caOptions);
  let mark = 0;
  try {
    mark = Date.parse((await fs.readFile(path.join(dir, LEAVES_VALID_UNTIL_FILE), 'utf8')).trim()) || 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${path.join(dir, LEAVES_VALID_UNTIL_FILE)}: ${(err as Error).message}`);
  }
  return { name, ca, untrackedUntil: mark, persistedMark: mark, pendingMark: mark, markWrite: Promise.resolve() };
}

async function readState(file: string): Promise<{ current: string; previous?: string } | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file}: not valid JSON`);
  }
  const state = parsed as { current?: unknown; previous?: unknown };
  if (typeof state.current !== 'string' || !GENERATION.test(state.current)) throw new Error(`${file}: "current" must name a CA directory like "ca-1"`);
  if (state.previous !== undefined && (typeof state.previous !== 'string' || !GENERATION.test(state.previous))) throw new Error(`${file}: "previous" must name a CA directory like "ca-1"`);
  return state.previous === undefined ? { current: state.current } : { current: state.current, previous: state.previous };
}
