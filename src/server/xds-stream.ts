// What every xDS stream has in common, whether state-of-the-world or Delta, ADS, a per-type
// service or SDS: who the node is (fixed by its first request), one watch on the node's snapshot,
// and an outbound queue of at most one message in flight. While a message is
// in flight the types that want pushing are only marked; when the write completes, each marked
// type is computed from the latest snapshot and sent, in warming order. So a client that stops
// reading holds at most one response in meshd's memory and delays nobody else.
//
// Two rules of the xDS protocol between parent and child types live here, because they are the
// same for SotW and Delta:
// - After a Cluster update, its ClusterLoadAssignment is sent again, changed or not: Envoy
//   completes warming of an updated cluster only when it receives its endpoints anew.
// - Make before break on ADS: when a Cluster (Listener) response names children the client has
//   not subscribed to yet, the child type and everything after it in warming order wait until
//   the client subscribes (its next request of the child type) or answers the parent response.
//   So a change arrives as CDS, EDS, LDS, RDS, each once, instead of EDS and RDS twice.
import * as grpc from '@grpc/grpc-js';
import type { ConfigWatcher } from '../cache/snapshot-cache';
import type { ResourceSet, Snapshot } from '../cache/snapshot';
import { CHILD_TYPE, RESEND_CHILDREN_ON_UPDATE, WARMING_ORDER, shortTypeName } from '../xds/type-urls';
import { RequestError, type NodeInfo } from '../xds/wire';
import type { OutgoingMessage } from '../xds/message-parts';
import { StatusError } from '../xds/status-error';
import type { StreamFlavor, StreamInfo, StreamObserver } from './observer';
import { PendingTypes } from './pending-types';
import { logger } from '../log';

/** The types that have children (clusters: their endpoints; listeners: their routes). */
const PARENT_TYPES: readonly string[] = [...CHILD_TYPE.keys()];

const log = logger('xds-stream');

export type RawDuplex = grpc.ServerDuplexStream<Buffer, OutgoingMessage>;

/**
 * Who a stream's node is, as far as the server cares: the key of the snapshot it is served. What
 * a key means (an App Mesh endpoint, a per-proxy variant) is the identifier's business, injected
 * by whoever runs the server (as go-control-plane's NodeHash).
 */
export interface NodeIdentity {
  key: string;
  /**
   * For identities that can stop being valid while the stream is open (a revoked credential):
   * calls `onRevoked` when that happens, and the stream ends with its status. Returns the
   * unsubscribe, called when the stream closes.
   */
  watchRevocation?: (onRevoked: (error: StatusError) => void) => () => void;
}

/** Decides who a stream's node is; throws StatusError (PERMISSION_DENIED, INVALID_ARGUMENT). */
export type NodeIdentifier = (node: NodeInfo, metadata: grpc.Metadata) => NodeIdentity;

export interface StreamOptions {
  /** Service name for logs and status (`ADS`, `CDS`, `SDS`, ...). */
  service: string;
  watcher: ConfigWatcher;
  /** Type URLs this service answers. */
  servedTypes: ReadonlySet<string>;
  /** Per-type services: the type a request with an empty type_url means. */
  impliedTypeUrl?: string;
  identify: NodeIdentifier;
  observer?: StreamObserver;
  /**
   * Names of a subscription this node may not have (SDS: another endpoint's secrets). They are
   * refused one by one (logged, reported) while the stream and its other names carry on.
   */
  refusedNames?: (nodeKey: string, typeUrl: string, names: readonly string[]) => readonly string[];
}

export interface BuiltResponse {
  message: OutgoingMessage;
  nonce: string;
  version: string;
  resourceCount: number;
  /** The resource set the response was built from. */
  set: ResourceSet | undefined;
  /** The names the version covers (sorted), or null for the whole set. */
  selection: readonly string[] | null;
}

/** A child type held back until the client subscribes to the children a parent response named. */
interface HeldChildren {
  parent: string;
  child: string;
  /** Position of the child in WARMING_ORDER: it and every later type wait. */
  fromIndex: number;
}

let nextStreamId = 1;

/**
 * The served type URL equal to a request's: the one string every stream shares, rather than the
 * copy each request decodes, which a stream would otherwise keep as its subscription's key.
 */
function servedTypeUrl(servedTypes: ReadonlySet<string>, typeUrl: string): string | undefined {
  for (const served of servedTypes) if (served === typeUrl) return served;
  return undefined;
}

/** How many refused names a log line and a report quote. */
const REFUSED_NAME_SAMPLE = 5;

export abstract class XdsStream {
  protected info: StreamInfo | undefined;
  protected snapshot: Snapshot | undefined;
  private cancelWatch: (() => void) | undefined;
  private stopRevocationWatch: (() => void) | undefined;
  private writing = false;
  /** Types waiting to be pushed, with whether the push is forced (a fresh subscription). */
  private readonly pending = new PendingTypes();
  private closed = false;
  /** Unserved types already logged; created on the first one (most streams never see one). */
  private ignoredTypes: Set<string> | undefined;
  /** Per parent type, the set its last response on this stream was built from. */
  /** The set last sent of each parent type, by its index in PARENT_TYPES (two slots, not a Map per stream). */
  private lastParentSets: (ResourceSet | undefined)[] | undefined;
  private held: HeldChildren | undefined;

  constructor(protected readonly call: RawDuplex, protected readonly opts: StreamOptions, private readonly flavor: StreamFlavor) {
    call.on('data', (bytes: Buffer) => this.receive(bytes));
    call.on('end', () => {
      this.close();
      call.end();
    });
    // One listener for the three ways a call ends (each stream holds its listeners while open).
    const onGone = (): void => this.close();
    call.on('error', onGone);
    call.on('cancelled', onGone);
    call.on('close', onGone);
  }

  /** Handles one decoded request; the node is known by then. */
  protected abstract handle(bytes: Buffer): void;

  /** Computes what to send for a type now, or null when there is nothing new to say. */
  protected abstract buildResponse(typeUrl: string, force: boolean): BuiltResponse | null;

  /** Types this stream is subscribed to, so a snapshot change knows what to recompute. */
  protected abstract subscribedTypes(): Iterable<string>;

  /** Whether the stream's subscription of a type already covers every one of these names. */
  protected abstract subscribesAll(typeUrl: string, names: readonly string[]): boolean;

  /**
   * Sends these resources of a type again on the next push, even if the client holds them at
   * their current version (only those the stream subscribes to).
   */
  protected abstract resendResources(typeUrl: string, names: readonly string[]): void;

  private receive(bytes: Buffer): void {
    if (this.closed) return;
    try {
      this.handle(bytes);
      // A request may have released held types without scheduling anything itself.
      if (!this.writing) this.flush();
    } catch (err) {
      if (err instanceof StatusError) this.fail(err.code, err.message);
      else if (err instanceof RequestError) this.fail(grpc.status.INVALID_ARGUMENT, err.message);
      else {
        log.error({ err, stream: this.info?.id }, 'unexpected error handling an xDS request');
        this.fail(grpc.status.INTERNAL, 'internal error handling the request');
      }
    }
  }

  /** On the first request: who is this node? Later requests may omit the node. */
  protected establish(node: NodeInfo | undefined): void {
    if (this.info) return;
    if (!node || !node.id) throw new StatusError(grpc.status.INVALID_ARGUMENT, 'the first request on a stream must carry node.id');
    const identity = this.opts.identify(node, this.call.metadata);
    const key = identity.key;
    this.info = {
      id: nextStreamId++,
      service: this.opts.service,
      flavor: this.flavor,
      peer: this.call.getPeer(),
      node,
      nodeKey: key,
      connectedAt: new Date(),
    };
    this.opts.observer?.streamOpened?.(this.info);
    log.debug({ stream: this.info.id, service: this.opts.service, node: node.id, peer: this.info.peer }, 'stream opened');
    this.cancelWatch = this.opts.watcher.watch(key, (snapshot) => this.onSnapshot(snapshot));
    this.stopRevocationWatch = identity.watchRevocation?.((error) => this.fail(error.code, error.message));
  }

  /**
   * The type a request is about. Per-type services refuse other types; ADS ignores (and logs once)
   * well-formed type URLs it does not serve, as a server without those resources would.
   * Returns undefined when the request is to be ignored.
   */
  protected resolveTypeUrl(typeUrl: string): string | undefined {
    const resolved = typeUrl || this.opts.impliedTypeUrl;
    if (!resolved) throw new StatusError(grpc.status.INVALID_ARGUMENT, 'request has no type_url');
    const served = servedTypeUrl(this.opts.servedTypes, resolved);
    if (served) {
      // The client subscribed to the children (or answered the parent without doing so): go on.
      if (this.held && (served === this.held.child || served === this.held.parent)) this.held = undefined;
      return served;
    }
    if (this.opts.impliedTypeUrl || !/^[\w.-]+(\.[\w-]+)*\/[\w.]+$/.test(resolved)) {
      throw new StatusError(grpc.status.INVALID_ARGUMENT, `${this.opts.service} does not serve type_url "${resolved.slice(0, 200)}"`);
    }
    this.ignoredTypes ??= new Set();
    if (!this.ignoredTypes.has(resolved)) {
      this.ignoredTypes.add(resolved);
      log.warn({ stream: this.info?.id, node: this.info?.node.id, typeUrl: resolved }, `${this.opts.service} does not serve this type; requests for it are ignored`);
      this.opts.observer?.requestRejected?.(this.info, `unserved type ${resolved}`);
    }
    return undefined;
  }

  private onSnapshot(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    // Mark every type first and flush once, so the queue sends them in warming order.
    for (const typeUrl of this.subscribedTypes()) this.pending.mark(typeUrl, false);
    if (!this.writing) this.flush();
  }

  /** Asks for a type to be (re)computed and sent as soon as the outbound queue is free. */
  protected schedule(typeUrl: string, force: boolean): void {
    if (this.closed) return;
    this.pending.mark(typeUrl, force);
    if (!this.writing) this.flush();
  }

  /** A write's completion: one function per stream, not a closure per write. */
  private readonly afterWrite = (): void => {
    this.writing = false;
    this.flush();
  };

  private flush(): void {
    // Without a snapshot, pending work (including forced first answers) waits for one.
    while (!this.writing && this.pending.size > 0 && !this.closed && this.snapshot) {
      const typeUrl = this.nextPendingType();
      if (typeUrl === undefined) break; // only held types are pending
      const force = this.pending.take(typeUrl) ?? false;
      const response = this.buildResponse(typeUrl, force);
      if (!response) continue;
      this.writing = true;
      this.call.write(response.message, this.afterWrite);
      if (this.info) this.opts.observer?.responseSent?.(this.info, typeUrl, response.version, response.nonce, response.resourceCount, response.selection);
      this.afterParentSent(typeUrl, response.set, response.selection);
    }
  }

  /** The first pending type in warming order that is not held back. */
  private nextPendingType(): string | undefined {
    const limit = this.held?.fromIndex ?? WARMING_ORDER.length;
    for (let i = 0; i < limit; i++) if (this.pending.has(WARMING_ORDER[i]!)) return WARMING_ORDER[i];
    if (this.held) return undefined;
    return this.pending.first();
  }

  /** The parent/child rules of the header comment, after a response of a parent type went out. */
  private afterParentSent(typeUrl: string, set: ResourceSet | undefined, selection: readonly string[] | null): void {
    const child = CHILD_TYPE.get(typeUrl);
    if (!child || !set) return;
    const slot = PARENT_TYPES.indexOf(typeUrl);
    this.lastParentSets ??= PARENT_TYPES.map(() => undefined);
    const previous = this.lastParentSets[slot];
    this.lastParentSets[slot] = set;
    // Children matter only once the client subscribes to them on this stream (it does so after
    // its first parent response).
    if (!this.opts.servedTypes.has(child) || !this.isSubscribedTo(child)) return;
    if (RESEND_CHILDREN_ON_UPDATE.has(typeUrl) && previous && previous !== set) {
      const touched = set.dependenciesChangedSince(previous, child);
      if (touched.length > 0) this.resendResources(child, touched);
    }
    if (this.opts.servedTypes.size > 1 && !this.subscribesAll(child, set.dependencyNames(child, selection))) {
      this.held = { parent: typeUrl, child, fromIndex: WARMING_ORDER.indexOf(child as (typeof WARMING_ORDER)[number]) };
    }
  }

  private isSubscribedTo(typeUrl: string): boolean {
    for (const subscribed of this.subscribedTypes()) if (subscribed === typeUrl) return true;
    return false;
  }

  /**
   * Drops, logs and reports the names this node may not subscribe to: one log line and one
   * report per request, however many names it refuses (a request may name thousands). When
   * nothing is refused, `names` itself is returned (no copy: this runs for every ACK).
   */
  protected admitNames(typeUrl: string, names: string[]): string[] {
    if (!this.opts.refusedNames || !this.info || names.length === 0) return names;
    const refused = new Set(this.opts.refusedNames(this.info.nodeKey, typeUrl, names));
    if (refused.size === 0) return names;
    const sample = [...refused].slice(0, REFUSED_NAME_SAMPLE).map((name) => name.slice(0, 200));
    const more = refused.size > sample.length ? ` and ${refused.size - sample.length} more` : '';
    log.warn({ stream: this.info.id, node: this.info.node.id, type: shortTypeName(typeUrl), refused: refused.size, sample }, 'refused resources this node is not entitled to');
    this.opts.observer?.requestRejected?.(this.info, `not entitled to ${shortTypeName(typeUrl)} ${sample.join(', ')}${more}`);
    return names.filter((name) => !refused.has(name));
  }

  protected recordAck(typeUrl: string, version: string, nonce: string): void {
    if (this.info) this.opts.observer?.ackReceived?.(this.info, typeUrl, version, nonce);
  }

  protected recordNack(typeUrl: string, version: string, nonce: string, message: string): void {
    log.warn({ stream: this.info?.id, node: this.info?.node.id, type: shortTypeName(typeUrl), nonce, error: message.slice(0, 2000) }, 'proxy rejected (NACKed) a response; keeping its last accepted version');
    if (this.info) this.opts.observer?.nackReceived?.(this.info, typeUrl, version, nonce, message);
  }

  /** Ends this stream (only this one) with a status the client can read. */
  protected fail(code: grpc.status, message: string): void {
    if (this.closed) return;
    log.warn({ stream: this.info?.id, service: this.opts.service, code: grpc.status[code], error: message }, 'ending stream');
    this.opts.observer?.requestRejected?.(this.info, message);
    this.close();
    this.call.emit('error', { code, details: message, metadata: new grpc.Metadata() });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.clear();
    this.cancelWatch?.();
    this.cancelWatch = undefined;
    this.stopRevocationWatch?.();
    this.stopRevocationWatch = undefined;
    if (this.info) {
      this.opts.observer?.streamClosed?.(this.info);
      log.debug({ stream: this.info.id, node: this.info.node.id }, 'stream closed');
    }
  }
}
