// meshd's Prometheus metrics, in a registry of their own (never prom-client's global one, so two
// meshd instances in one process, as in tests, do not share counters), followed at each scrape by
// the process metrics (one registry per process). The xDS side is fed by the
// stream observer hooks; certificates, reloads and refusals by the parts that own them.
//
// Push latency is measured per stream, from the moment a response is written to the ACK of that
// response's nonce. Both ends are seen by the observer on the same stream, so the figure needs no
// coupling to the cache and holds for reconnects and subscription changes too; the time from a
// snapshot publish to the write is an in-process queue hop and negligible beside the proxy's
// apply-and-ACK time. Across all streams the histogram is the fan-out distribution.
import * as grpc from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StreamInfo, StreamObserver } from '../server/observer';
import type { NodeIdentifier } from '../server/xds-stream';
import { StatusError } from '../xds/status-error';
import { shortTypeName } from '../xds/type-urls';
import { transportOf } from './stream-registry';

export type ReloadResult = 'applied' | 'refused';
export type CertificateKind = 'leaf' | 'ca';

export interface MeshdMetricsOptions {
  /** Histogram buckets (seconds) for response-to-ACK latency. */
  pushBuckets?: number[];
  /** Clock in milliseconds, for tests. */
  nowMs?: () => number;
}

const DEFAULT_PUSH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The standard process metrics (RSS, heap, event-loop lag, open handles, GC, file descriptors),
 * in one registry per process: they describe the process, not one meshd, and prom-client's
 * collectors install a GC observer and an event-loop monitor each time they are set up, which
 * must not pile up when a process runs many meshd instances (tests).
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** How the stream layer words a refusal by entitlement (`not entitled to SDS <name>`). */
const NOT_ENTITLED = /^not entitled to (\S+) /;

interface StreamTracking {
  service: string;
  transport: string;
  /**
   * The latest response per type: its nonce, write time (ms) and whether it still awaits its
   * ACK. Only the latest response of a type can be ACKed (older nonces are stale), so one per
   * type, updated in place (this runs for every response of every stream). A type is here
   * once the stream has been sent it at least once.
   */
  outstanding: Map<string, { nonce: string; sentAtMs: number; awaitingAck: boolean }>;
}

/**
 * Counts per resource type kept in plain numbers on the hot path (every response and every ACK
 * of every stream) and handed to the prom-client counter when it is read: prom-client hashes
 * and checks the labels on every inc, which at 10,000 streams was a measurable part of a push.
 */
class CountsByType {
  private readonly pending = new Map<string, number>();

  add(type: string): void {
    this.pending.set(type, (this.pending.get(type) ?? 0) + 1);
  }

  drainInto(counter: Counter<'type'>): void {
    for (const [type, count] of this.pending) counter.inc({ type }, count);
    this.pending.clear();
  }
}

/**
 * A gauge's values per label pair kept in plain numbers (every stream that opens or closes moves
 * two or three of them: a reconnect storm is tens of thousands of changes) and set on the
 * prom-client gauge when it is read.
 */
class GaugeByPair<A extends string, B extends string> {
  /** By the first label's value, then the second's. */
  private readonly values = new Map<string, Map<string, { labels: Record<A | B, string>; value: number }>>();

  constructor(private readonly first: A, private readonly second: B) {}

  add(a: string, b: string, delta: number): void {
    let byB = this.values.get(a);
    if (!byB) {
      byB = new Map();
      this.values.set(a, byB);
    }
    const entry = byB.get(b);
    if (entry) entry.value += delta;
    else byB.set(b, { labels: { [this.first]: a, [this.second]: b } as Record<A | B, string>, value: delta });
  }

  setOn(gauge: Gauge<A | B>): void {
    for (const byB of this.values.values()) for (const { labels, value } of byB.values()) gauge.set(labels, value);
  }
}

export class MeshdMetrics implements StreamObserver {
  readonly registry = new Registry();
  private readonly nowMs: () => number;
  private readonly tracked = new Map<number, StreamTracking>();
  private expirySource: (() => Date | undefined) | undefined;

  private readonly streams = new GaugeByPair('service', 'transport');
  private readonly subscriptions = new GaugeByPair('type', 'transport');
  private readonly responseCounts = new CountsByType();
  private readonly ackCounts = new CountsByType();
  private readonly nacks: Counter<'type'>;
  private readonly rejected: Counter<'service'>;
  private readonly pushLatency: Histogram<'type'>;
  /** The push latency series per type, looked up once (prom-client hashes labels on every call). */
  private readonly latencyByType = new Map<string, Histogram.Internal<'type'>>();
  private readonly reloads: Counter<'result'>;
  private readonly issuances: Counter<'kind'>;
  private readonly rotations: Counter<'kind'>;
  private readonly fileRefusals: Counter<'reason'>;
  private readonly authzRefusals: Counter<'reason'>;

  constructor(options: MeshdMetricsOptions = {}) {
    this.nowMs = options.nowMs ?? (() => performance.now());
    const registers = [this.registry];
    const { streams, subscriptions, responseCounts, ackCounts } = this;
    new Gauge({ name: 'meshd_xds_connected_streams', help: 'Connected xDS/SDS streams by service and transport', labelNames: ['service', 'transport'], registers, collect() { streams.setOn(this); } });
    new Gauge({ name: 'meshd_xds_stream_types', help: 'Connected streams that have been sent each resource type, by transport', labelNames: ['type', 'transport'], registers, collect() { subscriptions.setOn(this); } });
    new Counter({ name: 'meshd_xds_responses_sent_total', help: 'Discovery responses (pushes) sent, by resource type', labelNames: ['type'], registers, collect() { responseCounts.drainInto(this); } });
    new Counter({ name: 'meshd_xds_acks_total', help: 'ACKs received, by resource type', labelNames: ['type'], registers, collect() { ackCounts.drainInto(this); } });
    this.nacks = new Counter({ name: 'meshd_xds_nacks_total', help: 'NACKs received, by resource type', labelNames: ['type'], registers });
    this.rejected = new Counter({ name: 'meshd_xds_requests_rejected_total', help: 'Requests refused or ignored by the stream servers, by service', labelNames: ['service'], registers });
    this.pushLatency = new Histogram({
      name: 'meshd_xds_push_ack_seconds',
      help: 'Time from writing a response to the ACK of its nonce, per stream and type',
      labelNames: ['type'],
      buckets: options.pushBuckets ?? DEFAULT_PUSH_BUCKETS,
      registers,
    });
    this.reloads = new Counter({ name: 'meshd_config_reloads_total', help: 'Mesh spec reloads by result', labelNames: ['result'], registers });
    this.issuances = new Counter({ name: 'meshd_certificate_issuances_total', help: 'Certificates issued by the built-in CA', labelNames: ['kind'], registers });
    this.rotations = new Counter({ name: 'meshd_certificate_rotations_total', help: 'Certificate rotations (leaf re-issue, CA rollover)', labelNames: ['kind'], registers });
    this.fileRefusals = new Counter({ name: 'meshd_file_secret_refusals_total', help: 'File-backed certificate pairs refused, by reason', labelNames: ['reason'], registers });
    this.authzRefusals = new Counter({ name: 'meshd_authorization_refusals_total', help: 'Streams or secret requests refused for lack of a valid credential or entitlement', labelNames: ['reason'], registers });
    // Read on every scrape, so it never goes stale between certificate events.
    const metrics = this;
    new Gauge({
      name: 'meshd_certificate_expiry_seconds',
      help: 'Seconds until the earliest served certificate expires (negative once expired, NaN when none)',
      registers,
      collect() {
        const earliest = metrics.expirySource?.();
        // NaN, not 0, when there is no certificate: a "< N seconds" alert must not fire on nothing.
        this.set(earliest ? (earliest.getTime() - Date.now()) / 1000 : NaN);
      },
    });
    // Start every labelled series the operator will look for at zero, so rates work from the start.
    for (const result of ['applied', 'refused'] as const) this.reloads.inc({ result }, 0);
  }

  private latencyOf(type: string): Histogram.Internal<'type'> {
    let series = this.latencyByType.get(type);
    if (!series) {
      series = this.pushLatency.labels({ type });
      this.latencyByType.set(type, series);
    }
    return series;
  }

  // ---- StreamObserver ----

  streamOpened(stream: StreamInfo): void {
    const transport = transportOf(stream.peer);
    this.tracked.set(stream.id, { service: stream.service, transport, outstanding: new Map() });
    this.streams.add(stream.service, transport, 1);
  }

  streamClosed(stream: StreamInfo): void {
    const tracking = this.tracked.get(stream.id);
    if (!tracking) return;
    this.tracked.delete(stream.id);
    this.streams.add(tracking.service, tracking.transport, -1);
    for (const typeUrl of tracking.outstanding.keys()) this.subscriptions.add(shortTypeName(typeUrl), tracking.transport, -1);
  }

  responseSent(stream: StreamInfo, typeUrl: string, _version: string, nonce: string): void {
    const type = shortTypeName(typeUrl);
    this.responseCounts.add(type);
    const tracking = this.tracked.get(stream.id);
    if (!tracking) return;
    const latest = tracking.outstanding.get(typeUrl);
    if (latest) {
      latest.nonce = nonce;
      latest.sentAtMs = this.nowMs();
      latest.awaitingAck = true;
    } else {
      tracking.outstanding.set(typeUrl, { nonce, sentAtMs: this.nowMs(), awaitingAck: true });
      this.subscriptions.add(type, tracking.transport, 1);
    }
  }

  ackReceived(stream: StreamInfo, typeUrl: string, _version: string, nonce: string): void {
    const type = shortTypeName(typeUrl);
    this.ackCounts.add(type);
    const sent = this.tracked.get(stream.id)?.outstanding.get(typeUrl);
    if (sent?.awaitingAck && sent.nonce === nonce) {
      sent.awaitingAck = false;
      this.latencyOf(type).observe(Math.max(0, (this.nowMs() - sent.sentAtMs) / 1000));
    }
  }

  nackReceived(stream: StreamInfo, typeUrl: string, _version: string, nonce: string): void {
    this.nacks.inc({ type: shortTypeName(typeUrl) });
    const sent = this.tracked.get(stream.id)?.outstanding.get(typeUrl);
    if (sent?.nonce === nonce) sent.awaitingAck = false;
  }

  requestRejected(stream: StreamInfo | undefined, reason: string): void {
    this.rejected.inc({ service: stream?.service ?? 'unidentified' });
    // A name the node may not have is an authorization refusal too (credential refusals are
    // counted where the node is identified, countingRefusals).
    const entitlement = NOT_ENTITLED.exec(reason);
    if (entitlement) this.authorizationRefused(entitlement[1] === 'SDS' ? 'secret_not_entitled' : 'resource_not_entitled');
  }

  // ---- events from the rest of meshd ----

  configReload(result: ReloadResult): void {
    this.reloads.inc({ result });
  }

  certificateIssued(kind: CertificateKind): void {
    this.issuances.inc({ kind });
  }

  certificateRotated(kind: CertificateKind): void {
    this.rotations.inc({ kind });
  }

  /** A file-backed pair was refused: `incomplete`, `mismatched`, `unparsable`, `expired`, ... */
  fileSecretRefused(reason: string): void {
    this.fileRefusals.inc({ reason });
  }

  /** A stream or secret request refused: `node_credential`, `secret_not_entitled`, ... */
  authorizationRefused(reason: string): void {
    this.authzRefusals.inc({ reason });
  }

  /** Where the earliest expiry comes from; read at every scrape. */
  setCertificateExpirySource(source: () => Date | undefined): void {
    this.expirySource = source;
  }

  /**
   * Wraps a node identifier so its refusals are counted: PERMISSION_DENIED (reason
   * `node_credential`) and NOT_FOUND, a credentialed node that is not an endpoint of the mesh
   * (reason `unknown_endpoint`).
   */
  countingRefusals(identify: NodeIdentifier): NodeIdentifier {
    return (node, metadata) => {
      try {
        return identify(node, metadata);
      } catch (err) {
        if (err instanceof StatusError && err.code === grpc.status.PERMISSION_DENIED) this.authorizationRefused('node_credential');
        if (err instanceof StatusError && err.code === grpc.status.NOT_FOUND) this.authorizationRefused('unknown_endpoint');
        throw err;
      }
    };
  }

  /** The Prometheus text exposition: meshd's metrics, then the process's. */
  async text(): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return `${own}${own.endsWith('\n') ? '' : '\n'}${process}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
