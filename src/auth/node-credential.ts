// Claiming a node id is not proof. meshd gives every mesh endpoint a credential: an HMAC-SHA256
// of the endpoint's canonical key under a secret kept in the state directory. The bootstrap meshd
// generates carries it (Envoy: gRPC initial metadata on the ADS and SDS clusters; proxyless gRPC,
// whose bootstrap cannot add call metadata: node.metadata). Every stream's first request is
// checked; without a valid credential the stream ends with PERMISSION_DENIED before anything is sent.
// The key can be rotated with an overlap (tokens under the old key are accepted until a deadline)
// and one endpoint's credential revoked; either way, a stream whose credential stops being valid
// is ended, and only then is anything re-translated with the new credential (a revoked proxy must
// never be handed its successor token).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { parseNodeId, NodeIdError, type MeshEndpointId } from '../identity/endpoint-id';
import type { NodeIdentifier, NodeIdentity } from '../server/xds-stream';
import { StatusError } from '../xds/status-error';
import { narrowModeSync } from '../util/file-mode';
import { logger, type Logger } from '../log';
import type { NodeInfo } from '../xds/wire';
import {
  DirectoryCredentialStore, keyFingerprint, nodeCredentialKeyPath, nodeCredentialStatePath, readKeyFile, readStateFile,
  type CredentialStateStore, type NodeCredentialState, type Revocation,
} from './credential-state';

export { NODE_CREDENTIAL_KEY_FILE, NODE_CREDENTIAL_STATE_FILE, nodeCredentialKeyPath, nodeCredentialStatePath, keyFingerprint } from './credential-state';
export type { NodeCredentialState, CredentialStateStore } from './credential-state';

/** gRPC initial-metadata header carrying the credential. */
export const CREDENTIAL_HEADER = 'x-meshd-node-token';
/** node.metadata field carrying the credential, for clients that cannot set call metadata. */
export const CREDENTIAL_NODE_METADATA_KEY = CREDENTIAL_HEADER;

const TOKEN_PREFIX = 'mdt1.';
/** setTimeout's longest delay; a later deadline is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Bounds the token memo: endpoints that left a long-lived mesh are forgotten now and then. */
const MAX_REMEMBERED_TOKENS = 65_536;

/** What `meshd status` and /status show: fingerprints and times, never a key. */
export interface NodeCredentialStatus {
  /** Fingerprint of the key new credentials are made with. */
  key: string;
  /** Keys still accepted until their deadline. */
  retiring: Array<{ key: string; acceptedUntil: string }>;
  /** Endpoints whose credential was revoked (their earlier bootstraps are refused). */
  revoked: Array<{ endpoint: string; generation: number; revokedAt: string }>;
}

/** Why a credential that was valid is not any more. */
type Invalidation = 'revoked' | 'key retired';

export class NodeCredentials {
  #state: NodeCredentialState;
  readonly #store: CredentialStateStore | undefined;
  readonly #log: Logger;
  /** One re-check per open stream: run first on a change, so revoked streams end before anything else happens. */
  readonly #streamChecks = new Set<() => void>();
  readonly #changeListeners = new Set<() => void>();
  #retireTimer: NodeJS.Timeout | undefined;
  #changes: Promise<unknown> = Promise.resolve();
  /**
   * Tokens under the current state, by endpoint key: every translation asks for every endpoint's
   * (an HMAC each, a few ms per mesh change at 1,000 endpoints), and every stream that opens is
   * checked against its endpoint's. Forgotten when the state changes.
   */
  #tokens = new Map<string, string>();

  private constructor(state: NodeCredentialState, store: CredentialStateStore | undefined, log: Logger) {
    this.#state = state;
    this.#store = store;
    this.#log = log;
    this.#scheduleRetirement();
  }

  /**
   * Loads the signing key from `<stateDir>/node-credential.key` and the retiring keys and
   * revocations beside it, narrowing modes wider than 0600 (with a warning). A missing or damaged
   * key (or state file) is a StateDirectoryError naming the file.
   */
  static load(stateDir: string, log: Logger = logger('node-credential')): NodeCredentials {
    const current = readKeyFile(stateDir);
    narrowModeSync(nodeCredentialKeyPath(stateDir), 0o600, log, 'node credential key file');
    const rest = readStateFile(stateDir);
    if (fs.existsSync(nodeCredentialStatePath(stateDir))) narrowModeSync(nodeCredentialStatePath(stateDir), 0o600, log, 'node credential state file');
    return new NodeCredentials({ current, ...rest }, new DirectoryCredentialStore(stateDir), log);
  }

  /** Writes a new random signing key (0600, atomically), replacing any there with its state. */
  static create(stateDir: string, log: Logger = logger('node-credential')): NodeCredentials {
    const store = new DirectoryCredentialStore(stateDir);
    const state: NodeCredentialState = { current: randomBytes(32), retiring: [], revoked: new Map() };
    store.saveSync(state);
    return new NodeCredentials(state, store, log);
  }

  /**
   * Loads the key, or creates it when there is none. For tests and embedding in a directory the
   * caller owns: `meshd serve` goes through openStateDirectory, which refuses to make a new key
   * beside an existing CA (that would invalidate every bootstrap printed so far).
   */
  static loadOrCreate(stateDir: string): NodeCredentials {
    if (!fs.existsSync(nodeCredentialKeyPath(stateDir))) return NodeCredentials.create(stateDir);
    return NodeCredentials.load(stateDir);
  }

  /** For tests and embedding: a credential authority with a given key, kept in memory only. */
  static withKey(key: Buffer): NodeCredentials {
    return new NodeCredentials({ current: Buffer.from(key), retiring: [], revoked: new Map() }, undefined, logger('node-credential'));
  }

  /** A credential authority over state kept elsewhere (a shared store), saved through `store`. */
  static fromState(state: NodeCredentialState, store: CredentialStateStore, log: Logger = logger('node-credential')): NodeCredentials {
    return new NodeCredentials(state, store, log);
  }

  /** The state as it is now (for a shared store to mirror). */
  get state(): NodeCredentialState {
    return this.#state;
  }

  /** The credential for one mesh endpoint (any spelling of its node id gives the same one). */
  tokenFor(nodeId: string): string {
    return this.#currentToken(parseNodeId(nodeId).key);
  }

  /** The endpoint's token under the current state, remembered (see #tokens). */
  #currentToken(endpointKey: string): string {
    let token = this.#tokens.get(endpointKey);
    if (token === undefined) {
      if (this.#tokens.size >= MAX_REMEMBERED_TOKENS) this.#tokens.clear();
      token = TOKEN_PREFIX + this.#mac(this.#state.current, endpointKey, this.#generationOf(endpointKey)).toString('base64url');
      this.#tokens.set(endpointKey, token);
    }
    return token;
  }

  /** True when `token` is the endpoint's credential of its current generation under a key accepted now. */
  verify(endpoint: MeshEndpointId, token: string, now = Date.now()): boolean {
    return this.#invalidation(endpoint, token, now) === undefined;
  }

  /** A NodeIdentifier for the stream servers: node id must parse and the credential must match it. */
  identifier(): NodeIdentifier {
    return (node: NodeInfo, metadata: grpc.Metadata): NodeIdentity & MeshEndpointId => {
      let endpoint: MeshEndpointId;
      try {
        endpoint = parseNodeId(node.id);
      } catch (err) {
        if (err instanceof NodeIdError) throw new StatusError(grpc.status.INVALID_ARGUMENT, err.message);
        throw err;
      }
      const token = presentedToken(node, metadata);
      if (!token) {
        throw new StatusError(grpc.status.PERMISSION_DENIED, `no credential for ${endpoint.key}: send the ${CREDENTIAL_HEADER} metadata from the bootstrap meshd generated for this node`);
      }
      const invalid = this.#invalidation(endpoint, token, Date.now());
      if (invalid) throw new StatusError(grpc.status.PERMISSION_DENIED, this.#refusal(endpoint.key, invalid));
      return { ...endpoint, watchRevocation: (onRevoked) => this.#watchStream(endpoint, token, onRevoked) };
    };
  }

  /**
   * Makes a new signing key current; the old one stays accepted for `overlapMs` (print every
   * node's bootstrap again within it). Streams that presented an old-key token are ended when
   * the overlap ends. Resolves once the new state is saved.
   */
  rotateKey(overlapMs: number): Promise<{ key: string; retired: string; acceptedUntil: Date }> {
    return this.#change(() => {
      const acceptedUntil = new Date(Date.now() + overlapMs);
      const retired = this.#state.current;
      const next: NodeCredentialState = { ...this.#state, current: randomBytes(32), retiring: [...this.#state.retiring, { key: retired, acceptedUntil }] };
      return { next, result: { key: keyFingerprint(next.current), retired: keyFingerprint(retired), acceptedUntil } };
    });
  }

  /**
   * Revokes one endpoint's credential: every token made for it so far is refused and its open
   * streams are ended; the next bootstrap printed for it carries a new one. Others are untouched.
   */
  revoke(endpointKey: string): Promise<{ generation: number; revokedAt: Date }> {
    return this.#change(() => {
      const revocation: Revocation = { generation: this.#generationOf(endpointKey) + 1, revokedAt: new Date() };
      const revoked = new Map(this.#state.revoked).set(endpointKey, revocation);
      return { next: { ...this.#state, revoked }, result: revocation };
    });
  }

  /** Takes state changed elsewhere (another replica, through a shared store) as it is. */
  adopt(state: NodeCredentialState): void {
    this.#apply(state);
  }

  /** Calls `listener` after every change, once the streams it invalidated have ended. */
  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  status(): NodeCredentialStatus {
    const now = Date.now();
    return {
      key: keyFingerprint(this.#state.current),
      retiring: this.#state.retiring.filter((r) => r.acceptedUntil.getTime() > now)
        .map((r) => ({ key: keyFingerprint(r.key), acceptedUntil: r.acceptedUntil.toISOString() })),
      revoked: [...this.#state.revoked].sort(([a], [b]) => a.localeCompare(b))
        .map(([endpoint, r]) => ({ endpoint, generation: r.generation, revokedAt: r.revokedAt.toISOString() })),
    };
  }

  /** Stops the retirement timer. */
  close(): void {
    clearTimeout(this.#retireTimer);
    this.#retireTimer = undefined;
  }

  /** Saves `next` first (a failed save changes nothing), then applies it; changes run one at a time. */
  #change<T>(decide: () => { next: NodeCredentialState; result: T }): Promise<T> {
    const run = this.#changes.then(async () => {
      const { next, result } = decide();
      await this.#store?.save(next);
      this.#apply(next);
      return result;
    });
    this.#changes = run.catch(() => undefined);
    return run;
  }

  #apply(next: NodeCredentialState): void {
    this.#state = next;
    this.#tokens = new Map();
    this.#scheduleRetirement();
    for (const check of [...this.#streamChecks]) check();
    for (const listener of [...this.#changeListeners]) listener();
  }

  /** At the earliest retiring deadline: drop the keys past it, which ends the streams that used them. */
  #scheduleRetirement(): void {
    clearTimeout(this.#retireTimer);
    this.#retireTimer = undefined;
    if (this.#state.retiring.length === 0) return;
    const earliest = Math.min(...this.#state.retiring.map((r) => r.acceptedUntil.getTime()));
    this.#retireTimer = setTimeout(() => this.#retireExpired(), Math.min(Math.max(0, earliest - Date.now()), MAX_TIMER_MS));
    this.#retireTimer.unref();
  }

  #retireExpired(): void {
    const now = Date.now();
    const expired = this.#state.retiring.filter((r) => r.acceptedUntil.getTime() <= now);
    if (expired.length === 0) {
      this.#scheduleRetirement(); // a deadline further than one timer reaches
      return;
    }
    // End the streams on the expired keys while the keys are still known, so they are told why.
    for (const check of [...this.#streamChecks]) check();
    this.#change(() => ({ next: { ...this.#state, retiring: this.#state.retiring.filter((r) => r.acceptedUntil.getTime() > now) }, result: undefined })).then(
      () => this.#log.info({ keys: expired.map((r) => keyFingerprint(r.key)) }, 'retired node credential key(s): credentials made with them are no longer accepted'),
      (err: Error) => {
        // Refused anyway (verify checks the deadline); saved with the next change.
        this.#log.error({ err: err.message }, 'could not save the node credential state after retiring a key');
      },
    );
  }

  #watchStream(endpoint: MeshEndpointId, token: string, onRevoked: (error: StatusError) => void): () => void {
    const check = (): void => {
      const invalid = this.#invalidation(endpoint, token, Date.now());
      if (!invalid) return;
      this.#streamChecks.delete(check);
      onRevoked(new StatusError(grpc.status.PERMISSION_DENIED, this.#refusal(endpoint.key, invalid)));
    };
    this.#streamChecks.add(check);
    return () => this.#streamChecks.delete(check);
  }

  #invalidation(endpoint: MeshEndpointId, token: string, now: number): Invalidation | undefined {
    if (!token.startsWith(TOKEN_PREFIX)) return 'revoked';
    // The common case, a token of the current key: compared with the remembered one (every
    // stream that opens is checked, 10,000 at once after a restart), in constant time.
    const expected = Buffer.from(this.#currentToken(endpoint.key));
    const presented = Buffer.from(token);
    if (presented.length === expected.length && timingSafeEqual(presented, expected)) return undefined;
    const given = Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url');
    const generation = this.#generationOf(endpoint.key);
    const matches = (key: Buffer): boolean => {
      const expected = this.#mac(key, endpoint.key, generation);
      return given.length === expected.length && timingSafeEqual(given, expected);
    };
    if (matches(this.#state.current)) return undefined;
    for (const retiring of this.#state.retiring) {
      if (matches(retiring.key)) return retiring.acceptedUntil.getTime() > now ? undefined : 'key retired';
    }
    return 'revoked';
  }

  #refusal(endpointKey: string, why: Invalidation): string {
    const revocation = this.#state.revoked.get(endpointKey);
    const reprint = 'print this node\'s bootstrap again with `meshd bootstrap`';
    if (why === 'key retired') return `the credential presented for ${endpointKey} was made with a node credential key that is no longer accepted (rotated, overlap over); ${reprint}`;
    if (revocation) return `the credential presented is not valid for ${endpointKey} (its credentials were revoked at ${revocation.revokedAt.toISOString()}; ${reprint})`;
    return `the credential presented is not valid for ${endpointKey}`;
  }

  #generationOf(endpointKey: string): number {
    return this.#state.revoked.get(endpointKey)?.generation ?? 0;
  }

  #mac(key: Buffer, endpointKey: string, generation: number): Buffer {
    // Generation 0 is the token every bootstrap carried before revocation existed.
    const message = generation === 0 ? `meshd-node-credential-v1\u0000${endpointKey}` : `meshd-node-credential-v1\u0000${endpointKey}\u0000g${generation}`;
    return createHmac('sha256', key).update(message).digest();
  }
}

function presentedToken(node: NodeInfo, metadata: grpc.Metadata): string | undefined {
  const fromHeader = metadata.get(CREDENTIAL_HEADER)[0];
  if (typeof fromHeader === 'string' && fromHeader) return fromHeader;
  const fromNode = node.metadata?.[CREDENTIAL_NODE_METADATA_KEY];
  return typeof fromNode === 'string' && fromNode ? fromNode : undefined;
}
