// Builders of a Cluster's resilience settings from App Mesh virtual-node listener settings:
// circuit breaker thresholds (connectionPool), passive outlier detection (outlierDetection) and
// active health checks (healthCheck). Shapes in, Envoy v3 protobufjs-shaped messages out.
import type { ProtoObject } from './types';
import { durationOf } from './route';
import type { ListenerModel } from '../model/types';

/** App Mesh `listeners[].connectionPool` (one protocol block set). */
export type ConnectionPool = NonNullable<ListenerModel['connectionPool']>;
/** App Mesh `listeners[].outlierDetection`. */
export type OutlierDetection = NonNullable<ListenerModel['outlierDetection']>;
/** App Mesh `listeners[].healthCheck`. */
export type HealthCheck = NonNullable<ListenerModel['healthCheck']>;

/** App Mesh's documented default for `maxPendingRequests` (an HTTP pool without one queues without bound). */
export const DEFAULT_MAX_PENDING_REQUESTS = 2_147_483_647;

/** Envoy's default `max_ejection_time` (300 s), which a longer base ejection time must not exceed. */
const ENVOY_MAX_EJECTION_MILLIS = 300_000;

function millis(value: number): ProtoObject {
  return durationOf({ value, unit: 'ms' });
}

/**
 * CircuitBreakers with one DEFAULT-priority threshold set from a connection pool:
 * - http: `maxConnections` -> max_connections, `maxPendingRequests` -> max_pending_requests
 *   (App Mesh default 2147483647), and max_requests = `maxConnections`: HTTP/1.1 carries one
 *   request per connection, so the connection limit is the concurrency limit the operator asked
 *   for; Envoy's own max_requests default (1024) would otherwise cap a larger pool silently.
 * - http2 / grpc: `maxRequests` -> max_requests (streams multiplex over few connections).
 * - tcp: `maxConnections` -> max_connections.
 * Thresholds not named keep Envoy's defaults.
 */
export function circuitBreakers(pool: ConnectionPool): ProtoObject {
  const thresholds: ProtoObject = {};
  if (pool.http) {
    thresholds.maxConnections = { value: pool.http.maxConnections };
    thresholds.maxPendingRequests = { value: pool.http.maxPendingRequests ?? DEFAULT_MAX_PENDING_REQUESTS };
    thresholds.maxRequests = { value: pool.http.maxConnections };
  }
  const multiplexed = pool.http2 ?? pool.grpc;
  if (multiplexed) thresholds.maxRequests = { value: multiplexed.maxRequests };
  if (pool.tcp) thresholds.maxConnections = { value: pool.tcp.maxConnections };
  return { thresholds: [{ priority: 'DEFAULT', ...thresholds }] };
}

/**
 * OutlierDetection ejecting a host after `maxServerErrors` consecutive server errors (5xx for
 * HTTP; gRPC statuses mapped to HTTP; connection failures for TCP) -> consecutive_5xx, swept
 * every `interval`, ejected for `baseEjectionDuration` (times the number of ejections) ->
 * base_ejection_time, at most `maxEjectionPercent` of the hosts -> max_ejection_percent.
 * Success-rate ejection, which Envoy enables by default once outlier detection is present, is
 * switched off: App Mesh offers only the consecutive-error rule, and a host should not be ejected
 * by a rule the operator never configured. A base ejection time above Envoy's default maximum
 * ejection time (300 s) raises that maximum to it (Envoy refuses a base above the maximum).
 */
export function outlierDetection(detection: OutlierDetection): ProtoObject {
  const base = durationOf(detection.baseEjectionDuration);
  const baseMillis = Number(base.seconds) * 1000 + Number(base.nanos) / 1e6;
  return {
    consecutive_5xx: { value: detection.maxServerErrors },
    interval: durationOf(detection.interval),
    baseEjectionTime: base,
    maxEjectionPercent: { value: detection.maxEjectionPercent },
    enforcingSuccessRate: { value: 0 },
    ...(baseMillis > ENVOY_MAX_EJECTION_MILLIS ? { maxEjectionTime: base } : {}),
  };
}

/**
 * The protocol-specific part of a HealthCheck. `clusterHttp2` says whether the checked cluster
 * speaks HTTP/2: Envoy refuses a gRPC health check on a cluster that does not, so a gRPC check of
 * an HTTP/1.1 or TCP application degrades to a TCP connect check rather than be NACKed.
 */
function healthCheckKind(check: HealthCheck, clusterHttp2: boolean): ProtoObject {
  switch (check.protocol) {
    case 'http':
      return { httpHealthCheck: { path: check.path || '/' } };
    case 'http2':
      return { httpHealthCheck: { path: check.path || '/', codecClientType: 'HTTP2' } };
    case 'grpc':
      return clusterHttp2 ? { grpcHealthCheck: {} } : { tcpHealthCheck: {} };
    default:
      // A TcpHealthCheck without send/receive payloads passes when the connection is made.
      return { tcpHealthCheck: {} };
  }
}

/**
 * An active HealthCheck: `intervalMillis` -> interval (also no_traffic_interval, so an idle
 * application is still checked at the configured rate instead of Envoy's 60 s), `timeoutMillis`
 * -> timeout, the thresholds as given; http/http2 -> http_health_check on `path` (default "/",
 * HTTP/2 codec for http2), grpc -> grpc_health_check (grpc.health.v1, whole server), tcp ->
 * tcp_health_check (connect only). A `port` other than the application's is set on the checked
 * endpoint (its health_check_config, see endpoint.ts), not here.
 */
export function healthCheck(check: HealthCheck, clusterHttp2: boolean): ProtoObject {
  const interval = millis(check.intervalMillis);
  return {
    timeout: millis(check.timeoutMillis),
    interval,
    noTrafficInterval: interval,
    healthyThreshold: { value: check.healthyThreshold },
    unhealthyThreshold: { value: check.unhealthyThreshold },
    ...healthCheckKind(check, clusterHttp2),
  };
}
