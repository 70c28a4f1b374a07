// The trust authority: the CA that issues now plus, during a rollover, the previous one, and the
// trust bundle that carries both. It tracks which CA signed every live leaf so the previous CA
// leaves the bundle only once no leaf still served depends on it.
//
// State directory layout (all 0700 directories, keys 0600):
//   <stateDir>/ca/state.json        {"current":"ca-2","previous":"ca-1"}  (previous only mid-rollover)
//   <stateDir>/ca/ca-N/ca.crt, ca.key
//   <stateDir>/ca/ca-N/leaves-valid-until   latest notAfter this CA may have issued (ISO date)
// The last file lets a restarted meshd know that leaves it no longer tracks may still be in use.
// A new CA is created only when `ca/` holds no CA material at all; anything partial or
// inconsistent is refused (a StateDirectoryError naming the file) unless the operator chose a
// recovery: adopt what is there, or set it aside and start a new CA.
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { logger, type Logger } from '../log';
import { writeFileAtomic } from '../util/atomic-file';
import type { CertificateAuthority, CaKeyAlgorithm } from './ca';
import { generationNumber, inspectCaRoot, STATE_FILE, writeStateFile } from './ca-state';
import { StateDirectoryError } from './state-error';
import { LEAVES_VALID_UNTIL_FILE, openGeneration, openGenerations, type CaOrigin, type CaRecovery, type Generation, type OpenedGenerations } from './ca-generations';
import { DEFAULT_LEAF_TTL_MS, issueLeaf } from './issuer';
import { contentVersion, type IssuedLeaf, type MeshEndpoint, type TrustBundleMaterial } from './types';

export { CA_RECOVERY_HINT, type CaOrigin, type CaRecovery } from './ca-generations';

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
  /**
   * What to do when the CA material is partial or inconsistent (otherwise: refuse). `adopt`
   * rebuilds state.json from the CA directories present, re-creating a lost certificate from its
   * kept key; `new-ca` renames `ca/` aside and creates a new CA. Neither acts on intact state.
   */
  recovery?: CaRecovery;
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

  /** Whether the CA was loaded, created in an empty state directory, adopted or replaced. */
  readonly origin: CaOrigin;

  private constructor(options: TrustAuthorityOptions, opened: OpenedGenerations) {
    super();
    this.#options = options;
    this.trustDomain = options.trustDomain;
    this.#caRoot = path.join(options.stateDir, 'ca');
    this.#log = options.log ?? logger('pki-authority');
    this.#current = opened.current;
    this.#previous = opened.previous;
    this.origin = opened.origin;
    this.#bundle = this.#buildBundle();
  }

  /**
   * Opens the authority in `stateDir`. Creates the first CA only when the directory holds no CA
   * material; partial or inconsistent material is a StateDirectoryError unless `recovery` says
   * what to do about it.
   */
  static async open(options: TrustAuthorityOptions): Promise<TrustAuthority> {
    const log = options.log ?? logger('pki-authority');
    await fs.mkdir(options.stateDir, { recursive: true, mode: 0o700 });
    const opened = await openGenerations(options, log);
    const authority = new TrustAuthority(options, opened);
    if (authority.#previous) {
      log.info({ currentCaId: authority.#current.ca.id, previousCaId: authority.#previous.ca.id }, 'resuming CA rollover');
      authority.#scheduleAutoFinish();
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
      // Past every ca-N directory there is: one left by an interrupted rollover was never trusted
      // and stays as it was.
      const existing = (await inspectCaRoot(this.#caRoot)).generations.map((generation) => generation.number);
      const nextName = `ca-${Math.max(generationNumber(this.#current.name), ...existing) + 1}`;
      const next = await openGeneration(this.#caRoot, nextName, this.#options, this.#log, 'create');
      await writeStateFile(path.join(this.#caRoot, STATE_FILE), { current: next.name, previous: this.#current.name });
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
      await writeStateFile(path.join(this.#caRoot, STATE_FILE), { current: this.#current.name });
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

  /**
   * Follows a state.json that something else rewrote (a replica sharing this CA through a store
   * started or finished a rollover and the new state was materialized here): loads the generations
   * it names, drops the ones it no longer names (their directories too, as finishRollover does),
   * and emits the same events as a local rollover so bundles and leaves move. Returns whether
   * anything changed. Damaged state is a StateDirectoryError and changes nothing.
   */
  followState(): Promise<boolean> {
    return this.#serialize(async () => {
      const inventory = await inspectCaRoot(this.#caRoot);
      if (inventory.state.kind !== 'valid') {
        throw new StateDirectoryError(inventory.stateFile, inventory.state.kind === 'invalid' ? inventory.state.problem : `${inventory.stateFile}: missing`);
      }
      const named = inventory.state.state;
      if (named.current === this.#current.name && named.previous === this.#previous?.name) return false;
      const held = [this.#current, ...(this.#previous ? [this.#previous] : [])];
      const load = (name: string): Promise<Generation> => {
        const known = held.find((generation) => generation.name === name);
        return known ? Promise.resolve(known) : openGeneration(this.#caRoot, name, this.#options, this.#log, 'load');
      };
      const current = await load(named.current);
      const previous = named.previous ? await load(named.previous) : undefined;
      const before = this.#current;
      this.#current = current;
      this.#previous = previous;
      this.#bundle = this.#buildBundle();
      const dropped = held.filter((generation) => generation !== current && generation !== previous);
      for (const generation of dropped) {
        for (const [serial, leaf] of this.#live) if (leaf.caId === generation.ca.id) this.#live.delete(serial);
        await fs.rm(generation.ca.dir, { recursive: true, force: true });
      }
      this.#log.info({ currentCaId: current.ca.id, previousCaId: previous?.ca.id, dropped: dropped.map((generation) => generation.ca.id) }, 'following the shared CA state');
      this.emit('trustBundle', this.#bundle);
      if (current !== before) this.emit('rolloverStarted', this.rolloverStatus());
      for (const generation of dropped) this.emit('rolloverFinished', { currentCaId: current.ca.id, previousCaId: generation.ca.id });
      this.#scheduleAutoFinish();
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

