// Who is connected and what each stream has been sent, has accepted and has refused, per type
// URL. It listens to the stream servers' observer hooks and is read by /status, /config_dump,
// CSDS and the metrics. It keeps no node metadata: a proxyless client's credential travels there.
import type { StreamInfo, StreamObserver } from '../server/observer';
import type { NodeInfo } from '../xds/wire';
import { shortTypeName } from '../xds/type-urls';
import type { ClosedStreamStatus, NackState, ProxyStatus, ServedForm, Transport, TypeStatus } from './types';

/** Decides which form a node is served. */
export type FormOf = (node: NodeInfo) => ServedForm;

/** gRPC's xDS clients announce themselves in user_agent_name (`gRPC Go`, `grpc-node-js`, ...). */
export const formFromUserAgent: FormOf = (node) => (/grpc/i.test(node.userAgentName) ? 'grpc' : 'envoy');

/** grpc-js reports a TCP peer as `address:port`; Unix socket peers have no port. */
export function transportOf(peer: string): Transport {
  if (peer.startsWith('unix:')) return 'unix';
  return /:\d+$/.test(peer) ? 'tcp' : 'unix';
}

export interface StreamRegistryOptions {
  formOf?: FormOf;
  /** How many closed streams to remember for /status (default 20). */
  closedHistory?: number;
  /** Clock, for tests that need fixed times. */
  now?: () => Date;
}

/**
 * Where one type stands on a stream. Times are epoch milliseconds (a Date is made only when
 * /status or CSDS reads one), and `sent` and `acked` are updated in place: every response and
 * every ACK of every stream passes through here, so they allocate nothing after the first.
 */
interface TypeRecord {
  /** `selection`: the names the sent version covers, or null for every resource of the type. */
  sent?: { version: string; nonce: string; atMs: number; resourceCount: number; selection: readonly string[] | null };
  acked?: { version: string; atMs: number };
  lastNack?: { version: string; nonce: string; message: string; atMs: number };
  /**
   * The last NONCE_MEMORY nonces sent, each followed by its version, so a NACK names the version
   * it refused (its version_info is the kept one). One array of exactly that size: two grown by
   * assignment took 150 bytes each, per type of every stream.
   */
  recentSent: string[];
  /** Where the next nonce goes in the ring above (an even index). */
  nextSlot: number;
}

/** A version a node acknowledged, and the names that version covers (null: the whole type). */
export interface AckedVersion {
  nodeId: string;
  endpoint: string;
  version: string;
  selection: readonly string[] | null;
}

/** The live state of one stream, as CSDS and metrics read it. */
export interface StreamRecord {
  info: StreamInfo;
  form: ServedForm;
  transport: Transport;
  types: Map<string, TypeRecord>;
}

/** How many nonces per type to remember: a NACK can only answer a recent response. */
const NONCE_MEMORY = 8;
/** NACK messages come from the proxy; keep them bounded. */
const MAX_NACK_MESSAGE = 4096;

export class StreamRegistry implements StreamObserver {
  private readonly streams = new Map<number, StreamRecord>();
  /**
   * The last closed streams, newest first. Their status is built when read: a reconnect storm
   * closes thousands of streams at once, of which only the last few are kept. A record no
   * longer changes once its stream is closed (it has left `streams`).
   */
  private readonly closed: { record: StreamRecord; closedAtMs: number }[] = [];
  private readonly formOf: FormOf;
  private readonly closedHistory: number;
  private readonly nowMs: () => number;
  /**
   * Replaced, never mutated, when a listener comes or goes: changed() runs for every response
   * and ACK of every stream and iterates whatever array it finds, allocating nothing, and a
   * listener removing itself mid-iteration does not disturb it.
   */
  private changeListeners: readonly (() => void)[] = [];

  constructor(options: StreamRegistryOptions = {}) {
    this.formOf = options.formOf ?? formFromUserAgent;
    this.closedHistory = options.closedHistory ?? 20;
    const now = options.now;
    this.nowMs = now ? () => now().getTime() : Date.now;
  }

  /** Calls `listener` after every change of what a stream has been sent, ACKed or NACKed, and on open and close. */
  onChange(listener: () => void): () => void {
    if (!this.changeListeners.includes(listener)) this.changeListeners = [...this.changeListeners, listener];
    return () => { this.changeListeners = this.changeListeners.filter((l) => l !== listener); };
  }

  streamOpened(stream: StreamInfo): void {
    this.streams.set(stream.id, { info: stream, form: this.formOf(stream.node), transport: transportOf(stream.peer), types: new Map() });
    this.changed();
  }

  streamClosed(stream: StreamInfo): void {
    const record = this.streams.get(stream.id);
    if (!record) return;
    this.streams.delete(stream.id);
    this.changed();
    if (this.closedHistory <= 0) return;
    this.closed.unshift({ record, closedAtMs: this.nowMs() });
    this.closed.length = Math.min(this.closed.length, this.closedHistory);
  }

  responseSent(stream: StreamInfo, typeUrl: string, version: string, nonce: string, resourceCount: number, selection: readonly string[] | null = null): void {
    const type = this.typeRecord(stream, typeUrl);
    if (!type) return;
    const atMs = this.nowMs();
    const sent = type.sent;
    if (sent) {
      sent.version = version;
      sent.nonce = nonce;
      sent.atMs = atMs;
      sent.resourceCount = resourceCount;
      sent.selection = selection;
    } else {
      type.sent = { version, nonce, atMs, resourceCount, selection };
    }
    type.recentSent[type.nextSlot] = nonce;
    type.recentSent[type.nextSlot + 1] = version;
    type.nextSlot = (type.nextSlot + 2) % (2 * NONCE_MEMORY);
    this.changed();
  }

  ackReceived(stream: StreamInfo, typeUrl: string, version: string, nonce: string): void {
    const type = this.typeRecord(stream, typeUrl);
    if (!type) return;
    const ackedVersion = sentVersion(type, nonce) ?? version;
    const atMs = this.nowMs();
    if (type.acked) {
      type.acked.version = ackedVersion;
      type.acked.atMs = atMs;
    } else {
      type.acked = { version: ackedVersion, atMs };
    }
    this.changed();
  }

  nackReceived(stream: StreamInfo, typeUrl: string, version: string, nonce: string, message: string): void {
    const type = this.typeRecord(stream, typeUrl);
    if (!type) return;
    type.lastNack = { version: sentVersion(type, nonce) ?? version, nonce, message: message.slice(0, MAX_NACK_MESSAGE), atMs: this.nowMs() };
    this.changed();
  }

  /** Every connected stream, oldest first. */
  proxies(): ProxyStatus[] {
    return [...this.streams.values()].map(statusOf);
  }

  /** Recently closed streams, newest first. */
  recentlyClosed(): ClosedStreamStatus[] {
    return this.closed.map(({ record, closedAtMs }) => ({ ...statusOf(record), closedAt: new Date(closedAtMs).toISOString() }));
  }

  /** The live records, for CSDS and gauges. */
  records(): readonly StreamRecord[] {
    return [...this.streams.values()];
  }

  /** Versions of a type each connected node has acknowledged (e.g. SDS, for "who holds what"). */
  ackedVersions(typeUrl: string): AckedVersion[] {
    const out: AckedVersion[] = [];
    for (const record of this.streams.values()) {
      const type = record.types.get(typeUrl);
      if (type?.acked) out.push({ nodeId: record.info.node.id, endpoint: record.info.nodeKey, version: type.acked.version, selection: type.sent?.selection ?? null });
    }
    return out;
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }

  private typeRecord(stream: StreamInfo, typeUrl: string): TypeRecord | undefined {
    const record = this.streams.get(stream.id);
    if (!record) return undefined;
    let type = record.types.get(typeUrl);
    if (!type) {
      type = { recentSent: new Array<string>(2 * NONCE_MEMORY).fill(''), nextSlot: 0 };
      record.types.set(typeUrl, type);
    }
    return type;
  }
}

/** The version a recent response of this nonce carried, if the nonce is among the last NONCE_MEMORY sent. */
function sentVersion(type: TypeRecord, nonce: string): string | undefined {
  const ring = type.recentSent;
  for (let i = 0; i < ring.length; i += 2) if (ring[i] === nonce && nonce !== '') return ring[i + 1];
  return undefined;
}

/** Where one type stands on a stream: synced, pending, nacked or nothing sent. */
export function typeState(type: { sent?: { version: string } ; acked?: { version: string }; lastNack?: { version: string } }): TypeStatus['state'] {
  if (!type.sent) return 'not_sent';
  if (type.acked?.version === type.sent.version) return 'synced';
  if (type.lastNack?.version === type.sent.version) return 'nacked';
  return 'pending';
}

function statusOf(record: StreamRecord): ProxyStatus {
  const { info } = record;
  const types: TypeStatus[] = [...record.types.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([typeUrl, type]) => {
      const status: TypeStatus = { typeUrl, type: shortTypeName(typeUrl), state: typeState(type) };
      if (type.sent) status.sent = { version: type.sent.version, nonce: type.sent.nonce, at: new Date(type.sent.atMs).toISOString(), resourceCount: type.sent.resourceCount };
      if (type.acked) status.acked = { version: type.acked.version, at: new Date(type.acked.atMs).toISOString() };
      if (type.lastNack) status.lastNack = { version: type.lastNack.version, nonce: type.lastNack.nonce, message: type.lastNack.message, at: new Date(type.lastNack.atMs).toISOString() } satisfies NackState;
      return status;
    });
  return {
    streamId: info.id,
    nodeId: info.node.id,
    cluster: info.node.cluster,
    userAgentName: info.node.userAgentName,
    endpoint: info.nodeKey,
    form: record.form,
    service: info.service,
    flavor: info.flavor,
    transport: record.transport,
    connectedSince: info.connectedAt.toISOString(),
    types,
  };
}
