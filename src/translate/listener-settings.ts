// A virtual-node listener's timeout, connectionPool, outlierDetection and healthCheck, placed
// where App Mesh's Envoy applies them:
// - timeout: on the inbound side, the ingress route (HTTP family) or tcp_proxy (TCP);
// - connectionPool and healthCheck: on the ingress cluster, i.e. the local application, so the
//   server's Envoy protects and watches its own application whoever calls it;
// - outlierDetection: on every caller's egress cluster reaching the listener, since ejecting a
//   misbehaving host is a client-side load-balancing decision.
import type { ProtoObject } from '../envoy/types';
import { durationOf } from '../envoy/route';
import { circuitBreakers, healthCheck, outlierDetection } from '../envoy/resilience';
import type { Duration, ListenerModel } from '../model/types';

/** App Mesh's per-request timeout of an HTTP, HTTP/2 or gRPC listener that sets none. */
export const DEFAULT_PER_REQUEST_TIMEOUT: Duration = { value: 15, unit: 's' };

/** Envoy Durations of a listener's timeouts; each absent when it should be left to Envoy. */
export interface IngressTimeouts {
  /** Route `timeout` (HTTP family only). */
  readonly perRequest?: ProtoObject;
  /** Route `idle_timeout` (HTTP family: per stream) or tcp_proxy `idle_timeout` (TCP). */
  readonly idle?: ProtoObject;
}

function isHttpFamily(listener: ListenerModel): boolean {
  return listener.protocol !== 'tcp';
}

/**
 * The timeouts of a listener's inbound traffic, from the block named after its protocol (the spec
 * refuses any other). HTTP-family listeners get App Mesh's 15 s per-request default when none is given (0
 * disables it, as in App Mesh and Envoy); the idle timeout is only set when given (App Mesh's
 * 300 s default is Envoy's stream_idle_timeout default already). TCP listeners take `tcp.idle`.
 */
export function ingressTimeouts(listener: ListenerModel): IngressTimeouts {
  const timeout = listener.timeout;
  if (!isHttpFamily(listener)) {
    const idle = timeout?.tcp?.idle;
    return idle ? { idle: durationOf(idle) } : {};
  }
  const http = listener.protocol === 'http' ? timeout?.http : listener.protocol === 'http2' ? timeout?.http2 : timeout?.grpc;
  return {
    perRequest: durationOf(http?.perRequest ?? DEFAULT_PER_REQUEST_TIMEOUT),
    ...(http?.idle ? { idle: durationOf(http.idle) } : {}),
  };
}

/** Whether the local application behind a listener is spoken to over HTTP/2. */
export function speaksHttp2(listener: ListenerModel): boolean {
  return listener.protocol === 'http2' || listener.protocol === 'grpc';
}

/** Cluster options for the ingress cluster of a listener (the local application). */
export interface IngressClusterSettings {
  readonly circuitBreakers?: ProtoObject;
  readonly healthChecks?: readonly ProtoObject[];
}

/** Circuit breakers from `connectionPool` and an active health check from `healthCheck`. */
export function ingressClusterSettings(listener: ListenerModel): IngressClusterSettings {
  const check = listener.healthCheck;
  return {
    ...(listener.connectionPool ? { circuitBreakers: circuitBreakers(listener.connectionPool) } : {}),
    // The spec holds healthCheck.port to the listener's port, so checks reach the application there.
    ...(check ? { healthChecks: [healthCheck(check, speaksHttp2(listener))] } : {}),
  };
}

/** Cluster options a caller's egress cluster takes from the target listener it reaches. */
export function egressClusterSettings(listener: ListenerModel): { readonly outlierDetection?: ProtoObject } {
  return listener.outlierDetection ? { outlierDetection: outlierDetection(listener.outlierDetection) } : {};
}
