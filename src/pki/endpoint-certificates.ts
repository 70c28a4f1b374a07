// Leaf certificates per mesh endpoint, on demand: issued the first time an endpoint is asked for,
// re-issued at a fraction of the lifetime (plus jitter, so a fleet does not renew in lockstep),
// re-issued at once on rotate(), and re-issued from the new CA when a rollover starts. Every new
// leaf and every trust bundle change is an event, which the SDS server turns into pushes.
import { EventEmitter } from 'node:events';
import { logger, type Logger } from '../log';
import type { TrustAuthority } from './authority';
import { DEFAULT_LEAF_TTL_MS } from './issuer';
import { spiffeIdOf } from '../identity/endpoint-id';
import { leafSpiffeIdFor, type IssuedLeaf, type MeshEndpoint, type TrustBundleMaterial } from './types';

export interface EndpointCertificatesOptions {
  /** Issues the leaves and owns the trust bundle. */
  authority: TrustAuthority;
  /** Leaf lifetime (default 24 h). */
  ttlMs?: number;
  /** Re-issue after this fraction of the lifetime (default 0.5). */
  refreshFraction?: number;
  /** Up to this fraction of the lifetime is added at random to the refresh time (default 0.05). */
  jitterFraction?: number;
  /**
   * After a rollover starts, wait this long before re-issuing leaves from the new CA, so the bundle
   * holding both CAs reaches every proxy first (default 1000 ms).
   */
  rolloverReissueDelayMs?: number;
  /** After a failed re-issue, try again this much later (default 5000 ms). */
  retryDelayMs?: number;
  /** Logger (default `logger('pki-endpoint-certificates')`). */
  log?: Logger;
}

/** A new leaf for an endpoint. */
export interface CertificateChange {
  /** The endpoint's default SPIFFE ID: the key of everything here (`leaf.spiffeId` is its URI SAN). */
  endpointId: string;
  endpoint: MeshEndpoint;
  leaf: IssuedLeaf;
  /** Serial of the leaf it replaces, if any. */
  previousSerial?: string;
}

export interface EndpointCertificatesEvents {
  certificate: [change: CertificateChange];
  trustBundle: [bundle: TrustBundleMaterial];
}

interface EndpointState {
  endpoint: MeshEndpoint;
  leaf?: IssuedLeaf;
  /** Issuances for this endpoint run one after another, in request order. */
  queue: Promise<unknown>;
  /** Issuances queued or running. */
  pending: number;
  timer?: NodeJS.Timeout;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class EndpointCertificates extends EventEmitter<EndpointCertificatesEvents> {
  readonly #authority: TrustAuthority;
  readonly #ttlMs: number;
  readonly #refreshFraction: number;
  readonly #jitterFraction: number;
  readonly #rolloverDelayMs: number;
  readonly #retryDelayMs: number;
  readonly #log: Logger;
  readonly #endpoints = new Map<string, EndpointState>();
  #rolloverTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #onBundle = (bundle: TrustBundleMaterial): void => {
    this.emit('trustBundle', bundle);
  };
  readonly #onRollover = (): void => {
    clearTimeout(this.#rolloverTimer);
    this.#rolloverTimer = setTimeout(() => {
      this.#rolloverTimer = undefined;
      void this.rotate().catch(() => undefined); // failures are logged and retried per endpoint
    }, this.#rolloverDelayMs);
  };

  constructor(options: EndpointCertificatesOptions) {
    super();
    this.#authority = options.authority;
    this.#ttlMs = options.ttlMs ?? DEFAULT_LEAF_TTL_MS;
    this.#refreshFraction = options.refreshFraction ?? 0.5;
    this.#jitterFraction = options.jitterFraction ?? 0.05;
    this.#rolloverDelayMs = options.rolloverReissueDelayMs ?? 1000;
    this.#retryDelayMs = options.retryDelayMs ?? 5000;
    this.#log = options.log ?? logger('pki-endpoint-certificates');
    if (!(this.#refreshFraction > 0 && this.#refreshFraction + this.#jitterFraction < 1)) {
      throw new Error(`refreshFraction ${this.#refreshFraction} + jitterFraction ${this.#jitterFraction}: refresh must fall strictly inside the lifetime`);
    }
    this.#authority.on('trustBundle', this.#onBundle);
    this.#authority.on('rolloverStarted', this.#onRollover);
  }

  /**
   * The endpoint's default SPIFFE ID, the key used by every method and event here (also when its
   * spec assigns it another identity: the leaf's `spiffeId` is then that one).
   */
  idOf(endpoint: MeshEndpoint): string {
    return spiffeIdOf(this.#authority.trustDomain, endpoint);
  }

  /**
   * The endpoint's current leaf, issuing it first if this is the first request, or when what the
   * leaf certifies changed (its DNS names, or the SPIFFE ID its spec assigns).
   */
  async get(endpoint: MeshEndpoint): Promise<IssuedLeaf> {
    if (this.#stopped) throw new Error('endpoint certificates stopped');
    const id = this.idOf(endpoint);
    let state = this.#endpoints.get(id);
    if (state?.leaf && this.#sameSubject(state.endpoint, endpoint)) return state.leaf;
    if (!state) {
      state = { endpoint: copyEndpoint(endpoint), queue: Promise.resolve(), pending: 0 };
      this.#endpoints.set(id, state);
    } else if (!this.#sameSubject(state.endpoint, endpoint)) {
      state.endpoint = copyEndpoint(endpoint);
      return this.#reissue(id, state);
    }
    // Concurrent first requests share the issuance already under way.
    if (state.pending > 0) await state.queue.catch(() => undefined);
    return state.leaf ?? this.#reissue(id, state);
  }

  /** The current leaf of an endpoint (by value or SPIFFE ID) without issuing one. */
  current(endpoint: MeshEndpoint | string): IssuedLeaf | undefined {
    return this.#endpoints.get(typeof endpoint === 'string' ? endpoint : this.idOf(endpoint))?.leaf;
  }

  /** SPIFFE IDs of every endpoint with a leaf or one on the way. */
  endpointIds(): string[] {
    return [...this.#endpoints.keys()];
  }

  /** The trust bundle the leaves chain to. */
  trustBundle(): TrustBundleMaterial {
    return this.#authority.trustBundle();
  }

  /** Re-issues now: one endpoint (by value or SPIFFE ID), or every known endpoint. */
  async rotate(endpoint?: MeshEndpoint | string): Promise<IssuedLeaf[]> {
    if (this.#stopped) throw new Error('endpoint certificates stopped');
    if (endpoint === undefined) {
      return Promise.all([...this.#endpoints].map(([id, state]) => this.#reissue(id, state)));
    }
    const id = typeof endpoint === 'string' ? endpoint : this.idOf(endpoint);
    const state = this.#endpoints.get(id);
    if (!state) {
      if (typeof endpoint === 'string') throw new Error(`rotate: no certificate has been issued for ${id}`);
      return [await this.get(endpoint)];
    }
    return [await this.#reissue(id, state)];
  }

  /** Forgets an endpoint: its timer stops and its leaf no longer counts as served. */
  remove(endpoint: MeshEndpoint | string): void {
    const id = typeof endpoint === 'string' ? endpoint : this.idOf(endpoint);
    const state = this.#endpoints.get(id);
    if (!state) return;
    clearTimeout(state.timer);
    this.#endpoints.delete(id);
    if (state.leaf) this.#authority.release(state.leaf.serial);
  }

  /** Clears every timer and stops listening to the authority. Leaves stay valid until they expire. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#rolloverTimer);
    this.#rolloverTimer = undefined;
    for (const state of this.#endpoints.values()) {
      clearTimeout(state.timer);
      state.timer = undefined;
    }
    this.#authority.off('trustBundle', this.#onBundle);
    this.#authority.off('rolloverStarted', this.#onRollover);
  }

  #reissue(id: string, state: EndpointState): Promise<IssuedLeaf> {
    state.pending++;
    const issuance = state.queue.catch(() => undefined).then(() => this.#issueNow(id, state)).finally(() => { state.pending--; });
    state.queue = issuance;
    return issuance;
  }

  async #issueNow(id: string, state: EndpointState): Promise<IssuedLeaf> {
    let leaf: IssuedLeaf;
    try {
      leaf = await this.#authority.issue(state.endpoint, { ttlMs: this.#ttlMs });
    } catch (err) {
      this.#log.error({ endpoint: id, err: (err as Error).message }, 'issuing leaf certificate failed; will retry');
      if (!this.#stopped && this.#endpoints.get(id) === state) this.#schedule(id, state, this.#retryDelayMs);
      throw err;
    }
    if (this.#stopped || this.#endpoints.get(id) !== state) {
      this.#authority.release(leaf.serial); // nobody will serve it
      return leaf;
    }
    const previous = state.leaf;
    state.leaf = leaf;
    if (previous) this.#authority.release(previous.serial);
    const lifetime = leaf.notAfter.getTime() - Date.now();
    const jitter = Math.random() * this.#jitterFraction;
    // A rollover may have started while this leaf was being signed by the old CA: replace it at once.
    const delay = leaf.caId === this.#authority.currentCa.id ? lifetime * (this.#refreshFraction + jitter) : 0;
    this.#schedule(id, state, delay);
    this.#log.debug({ endpoint: id, serial: leaf.serial, caId: leaf.caId, notAfter: leaf.notAfter.toISOString() }, 'issued leaf certificate');
    const change: CertificateChange = { endpointId: id, endpoint: state.endpoint, leaf };
    if (previous) change.previousSerial = previous.serial;
    this.emit('certificate', change);
    return leaf;
  }

  /** True when a leaf for `a` also certifies `b`: the same URI SAN and DNS names. */
  #sameSubject(a: MeshEndpoint, b: MeshEndpoint): boolean {
    const trustDomain = this.#authority.trustDomain;
    return leafSpiffeIdFor(trustDomain, a) === leafSpiffeIdFor(trustDomain, b)
      && a.dnsNames.length === b.dnsNames.length && a.dnsNames.every((name, i) => name === b.dnsNames[i]);
  }

  /** Replaces any pending refresh of this endpoint (a stale timer never fires). */
  #schedule(id: string, state: EndpointState, delayMs: number): void {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.#reissue(id, state).catch(() => undefined); // logged and rescheduled in #issueNow
    // Whole milliseconds: Node files timers by duration, and a fractional one (the jittered
    // lifetime fraction) costs a string-keyed lookup per timer, thousands of them at each rotation.
    }, Math.min(Math.max(Math.ceil(delayMs), 0), MAX_TIMER_MS));
  }
}


function copyEndpoint(endpoint: MeshEndpoint): MeshEndpoint {
  return { ...endpoint, dnsNames: [...endpoint.dnsNames] };
}
