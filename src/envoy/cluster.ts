// Builders of Envoy Cluster messages: STATIC (the local application), EDS over ADS (IP service
// discovery, endpoints in the snapshot) and STRICT_DNS/LOGICAL_DNS (DNS service discovery).
import type { ProtoObject } from './types';
import { shareEncoding } from '../xds/encode';
import { adsConfigSource } from './listener';
import { clusterLoadAssignment, type HostPort } from './endpoint';

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
/** How long a connection attempt to an upstream may take (App Mesh's Envoy default is 1 s too). Shared: encoded once. */
const CONNECT_TIMEOUT = shareEncoding({ seconds: 1 });

/** Options every cluster kind shares. */
export interface ClusterCommon {
  readonly name: string;
  /** Speak HTTP/2 to the upstream (http2 and grpc listeners). */
  readonly http2: boolean;
  /** A transport socket (TLS origination); absent means plaintext. */
  readonly transportSocket?: ProtoObject;
  /** CircuitBreakers (resilience.ts `circuitBreakers`); absent keeps Envoy's default thresholds. */
  readonly circuitBreakers?: ProtoObject;
  /** OutlierDetection (resilience.ts `outlierDetection`); absent means no passive ejection. */
  readonly outlierDetection?: ProtoObject;
  /** Active HealthChecks (resilience.ts `healthCheck`); absent or empty means none. */
  readonly healthChecks?: readonly ProtoObject[];
}

/** The HttpProtocolOptions (an Any) selecting HTTP/2 upstream; the same in every cluster, so shared: encoded once. */
const HTTP2_PROTOCOL_OPTIONS = shareEncoding({
  '@type': `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS}`,
  explicitHttpConfig: { http2ProtocolOptions: {} },
});

/** `typed_extension_protocol_options` selecting HTTP/2 upstream. */
export function http2ProtocolOptions(): ProtoObject {
  return { [HTTP_PROTOCOL_OPTIONS]: HTTP2_PROTOCOL_OPTIONS };
}

function common(options: ClusterCommon): ProtoObject {
  return {
    name: options.name,
    connectTimeout: CONNECT_TIMEOUT,
    ...(options.http2 ? { typedExtensionProtocolOptions: http2ProtocolOptions() } : {}),
    ...(options.transportSocket ? { transportSocket: options.transportSocket } : {}),
    ...(options.circuitBreakers ? { circuitBreakers: options.circuitBreakers } : {}),
    ...(options.outlierDetection ? { outlierDetection: options.outlierDetection } : {}),
    ...(options.healthChecks && options.healthChecks.length > 0 ? { healthChecks: [...options.healthChecks] } : {}),
  };
}

/** A STATIC cluster with an inline load assignment. */
export function staticCluster(options: ClusterCommon & { readonly endpoints: readonly HostPort[] }): ProtoObject {
  return { ...common(options), type: 'STATIC', loadAssignment: clusterLoadAssignment(options.name, options.endpoints) };
}

/** An EDS cluster whose ClusterLoadAssignment (named like the cluster) comes over ADS. */
export function edsCluster(options: ClusterCommon): ProtoObject {
  return { ...common(options), type: 'EDS', edsClusterConfig: { edsConfig: adsConfigSource(), serviceName: options.name } };
}

/** DNS lookup families Envoy knows, from App Mesh `ipPreference`. */
function dnsLookupFamily(ipPreference: string | undefined): string {
  switch (ipPreference) {
    case 'IPv4_ONLY': return 'V4_ONLY';
    case 'IPv6_ONLY': return 'V6_ONLY';
    case 'IPv4_PREFERRED': return 'V4_PREFERRED';
    case 'IPv6_PREFERRED': return 'AUTO';
    default: return 'V4_PREFERRED';
  }
}

/**
 * A DNS cluster: STRICT_DNS balances over every address the name resolves to (App Mesh
 * responseType ENDPOINTS); LOGICAL_DNS connects to one address at a time (LOADBALANCER, a
 * load balancer's name).
 */
export function dnsCluster(options: ClusterCommon & {
  readonly type: 'STRICT_DNS' | 'LOGICAL_DNS';
  readonly endpoint: HostPort;
  readonly ipPreference?: string;
}): ProtoObject {
  return {
    ...common(options),
    type: options.type,
    dnsLookupFamily: dnsLookupFamily(options.ipPreference),
    loadAssignment: clusterLoadAssignment(options.name, [options.endpoint]),
  };
}
