// Builders of Envoy Listener messages and their network filters (http_connection_manager,
// tcp_proxy), listener filters (tls_inspector, original_dst) and file access logs.
import type { ProtoObject, ProtoValue } from './types';
import { shareEncoding } from '../xds/encode';

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_PROXY = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';
const TLS_INSPECTOR = 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
const ORIGINAL_DST = 'envoy.extensions.filters.listener.original_dst.v3.OriginalDst';
const FILE_ACCESS_LOG = 'envoy.extensions.access_loggers.file.v3.FileAccessLog';

/** The same in every RDS and EDS config of every node: shared, encoded once. */
const ADS_CONFIG_SOURCE: ProtoObject = shareEncoding({ ads: {}, resourceApiVersion: 'V3' });

/** ConfigSource for resources fetched over the node's ADS stream (RDS, EDS). */
export function adsConfigSource(): ProtoObject {
  return ADS_CONFIG_SOURCE;
}

/** The access log list of a filter: a file log at `path`, or nothing. */
export function fileAccessLog(path: string | undefined): ProtoObject {
  if (!path) return {};
  return {
    accessLog: [{
      name: 'envoy.access_loggers.file',
      typedConfig: { '@type': `type.googleapis.com/${FILE_ACCESS_LOG}`, path },
    }],
  };
}

/** The TLS inspector: sets the transport protocol ("tls") that filter chains can match on. */
export function tlsInspectorFilter(): ProtoObject {
  return { name: 'envoy.filters.listener.tls_inspector', typedConfig: { '@type': `type.googleapis.com/${TLS_INSPECTOR}` } };
}

/** original_dst: restores the destination an iptables REDIRECT replaced, for destination_port matches. */
export function originalDstFilter(): ProtoObject {
  return { name: 'envoy.filters.listener.original_dst', typedConfig: { '@type': `type.googleapis.com/${ORIGINAL_DST}` } };
}

/** Where an http_connection_manager gets its routes. */
export type RouteSource = { readonly rds: string } | { readonly inline: ProtoObject };

/** Options of an http_connection_manager. */
export interface HttpConnectionManagerOptions {
  readonly statPrefix: string;
  readonly routes: RouteSource;
  readonly accessLogPath?: string;
  /** Ignore the port in Host/:authority when matching virtual host domains. */
  readonly stripAnyHostPort?: boolean;
}

/** An http_connection_manager network filter (codec AUTO: HTTP/1.1 and HTTP/2, as negotiated). */
export function httpConnectionManagerFilter(options: HttpConnectionManagerOptions): ProtoObject {
  const routes: ProtoObject = 'rds' in options.routes
    ? { rds: { routeConfigName: options.routes.rds, configSource: adsConfigSource() } }
    : { routeConfig: options.routes.inline };
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typedConfig: {
      '@type': `type.googleapis.com/${HCM}`,
      codecType: 'AUTO',
      statPrefix: options.statPrefix,
      ...routes,
      httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': `type.googleapis.com/${ROUTER}` } }],
      ...(options.stripAnyHostPort ? { stripAnyHostPort: true } : {}),
      ...fileAccessLog(options.accessLogPath),
    },
  };
}

/** A cluster and its weight, for weighted routing. */
export interface WeightedCluster {
  readonly name: string;
  readonly weight: number;
}

/** Options of a tcp_proxy. */
export interface TcpProxyOptions {
  readonly statPrefix: string;
  /** One cluster, or several with weights. */
  readonly clusters: readonly WeightedCluster[];
  readonly idleTimeout?: ProtoObject;
  readonly accessLogPath?: string;
}

/** A tcp_proxy network filter. */
export function tcpProxyFilter(options: TcpProxyOptions): ProtoObject {
  const target: ProtoObject = options.clusters.length === 1
    ? { cluster: options.clusters[0]!.name }
    : { weightedClusters: { clusters: options.clusters.map((c) => ({ name: c.name, weight: c.weight })) } };
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typedConfig: {
      '@type': `type.googleapis.com/${TCP_PROXY}`,
      statPrefix: options.statPrefix,
      ...target,
      ...(options.idleTimeout ? { idleTimeout: options.idleTimeout } : {}),
      ...fileAccessLog(options.accessLogPath),
    },
  };
}

/** How a filter chain is selected. */
export interface FilterChainMatch {
  readonly transportProtocol?: 'tls' | 'raw_buffer';
  readonly destinationPort?: number;
}

/** A filter chain: its match, network filters and (for TLS) transport socket. */
export function filterChain(name: string, match: FilterChainMatch, filters: readonly ProtoObject[], transportSocket?: ProtoObject): ProtoObject {
  const chainMatch: ProtoObject = {
    ...(match.destinationPort !== undefined ? { destinationPort: { value: match.destinationPort } } : {}),
    ...(match.transportProtocol ? { transportProtocol: match.transportProtocol } : {}),
  };
  return {
    name,
    ...(Object.keys(chainMatch).length > 0 ? { filterChainMatch: chainMatch } : {}),
    filters: [...filters],
    ...(transportSocket ? { transportSocket } : {}),
  };
}

/** Options of a listener. */
export interface ListenerOptions {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Stat prefix (`0.0.0.0_15000` keeps App Mesh's `listener.0.0.0.0_15000.*` stats). */
  readonly statPrefix: string;
  readonly listenerFilters: readonly ProtoObject[];
  readonly filterChains: readonly ProtoObject[];
  /** Set when TCP chains may be selected late (server-first protocols behind a TLS inspector). */
  readonly continueOnListenerFiltersTimeout?: boolean;
  readonly trafficDirection: 'INBOUND' | 'OUTBOUND';
}

/** A Listener bound at address:port. */
export function listener(options: ListenerOptions): ProtoObject {
  return {
    name: options.name,
    address: { socketAddress: { address: options.address, portValue: options.port } },
    statPrefix: options.statPrefix,
    ...(options.listenerFilters.length > 0 ? { listenerFilters: [...options.listenerFilters] as ProtoValue[] } : {}),
    ...(options.continueOnListenerFiltersTimeout ? { continueOnListenerFiltersTimeout: true } : {}),
    filterChains: [...options.filterChains],
    trafficDirection: options.trafficDirection,
  };
}
