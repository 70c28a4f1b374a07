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

interface TypeRecord {
  /** `selection`: the names the sent version covers, or null for every resource of the type. */
  sent?: { version: string; nonce: string; at: Date; resourceCount: number; selection: readonly string[] | null };
  acked?: { version: string; at: Date };
  lastNack?: { version: string; nonce: string; message: string; at: Date };
  /** Versions sent by nonce, so a NACK names the version it refused (its version_info is the kept one). */
  versionByNonce: Map<string, string>;
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
  private readonly closed: { record: StreamRecord; closedAt: Date }[] = [];
  private readonly formOf: FormOf;
  private readonly closedHistory: number;
  private readonly now: () => Date;
  private readonly changeListeners = new Set<() => void>();

  constructor(options: StreamRegistryOptions = {}) {
    this.formOf = options.formOf ?? formFromUserAgent;
    this.closedHistory = options.closedHistory ?? 20;
    this.now = options.now ?? (() => new Date());
  }

  /** Calls `listener` after every change of what a stream has been sent, ACKed or NACKed, and on open and close. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => { this.changeListeners.delete(listener); };
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
    this.closed.unshift({ record, closedAt: this.now() });
    this.closed.length = Math.min(this.closed.length, this.closedHistory);
  }

  responseSent(stream: StreamInfo, typeUrl: string, version: string, nonce: string, resourceCount: number, selection: readonly string[] | null = null): void {
    const type = this.typeRecord(stream, typeUrl);
    if (!type) return;
    type.sent = { version, nonce, at: this.now(), resourceCount, selection };
    type.versionByNonce.set(nonce, version);
    if (type.versionByNonce.size > NONCE_MEMORY) type.versionByNonce.delete(type.versionByNonce.keys().next().value as string);
    this.changed();
  }

  ackReceived(stream: StreamInfo, typeUrl: string, version: string, nonce: string): void {
    const type = this.typeRecord(stream, typeUrl);
    if (!type) return;
    type.acked = { version: type.versionByNonce.get(nonce) ?? version, at: this.now() };
    this.changed();
  }

  nackReceived(stream: StreamInfo, typeUrl: string, version: string, nonce: string, message: string): void {
    const type = this.typeRecord(stream, typeUrl);
    if (!type) return;
    type.lastNack = { version: type.versionByNonce.get(nonce) ?? version, nonce, message: message.slice(0, MAX_NACK_MESSAGE), at: this.now() };
    this.changed();
  }

  /** Every connected stream, oldest first. */
  proxies(): ProxyStatus[] {
    return [...this.streams.values()].map(statusOf);
  }

  /** Recently closed streams, newest first. */
  recentlyClosed(): ClosedStreamStatus[] {
    return this.closed.map(({ record, closedAt }) => ({ ...statusOf(record), closedAt: closedAt.toISOString() }));
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
    // Runs for every response and ACK of every stream: no copy of the set (a Set tolerates a
    // listener removing itself while it is iterated).
    for (const listener of this.changeListeners) listener();
  }

  private typeRecord(stream: StreamInfo, typeUrl: string): TypeRecord | undefined {
    const record = this.streams.get(stream.id);
    if (!record) return undefined;
    let type = record.types.get(typeUrl);
    if (!type) {
      type = { versionByNonce: new Map() };
      record.types.set(typeUrl, type);
    }
    return type;
  }
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
      if (type.sent) status.sent = { version: type.sent.version, nonce: type.sent.nonce, at: type.sent.at.toISOString(), resourceCount: type.sent.resourceCount };
      if (type.acked) status.acked = { version: type.acked.version, at: type.acked.at.toISOString() };
      if (type.lastNack) status.lastNack = { ...type.lastNack, at: type.lastNack.at.toISOString() } satisfies NackState;
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
