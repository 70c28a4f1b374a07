// A backend virtual service, expanded to what its clients route to: per service port, its routes
// (from the virtual router, or one route straight to the provider node), each with its weighted
// egress clusters. Adding the clusters (and their endpoints) to the endpoint's context on the way.
import { isIP } from 'node:net';
import type { BackendModel, ListenerModel, Protocol, RouteModel, TargetNodeModel } from '../model/types';
import { dnsCluster, edsCluster } from '../envoy/cluster';
import { clusterLoadAssignment } from '../envoy/endpoint';
import type { WeightedCluster } from '../envoy/listener';
import { tlsTransportSocket, upstreamTlsContext } from '../envoy/tls';
import type { EndpointContext } from './context';
import { egressClusterSettings } from './listener-settings';
import { egressClusterName } from './names';
import { upstreamTlsFor } from './upstream-tls';

/** One route of a service port, resolved to clusters. `model` is absent for a node provider. */
export interface ServiceRoute {
  readonly name: string;
  readonly model?: RouteModel;
  readonly clusters: readonly WeightedCluster[];
}

/** A port the virtual service is reached on, with its protocol and routes in priority order. */
export interface ServicePort {
  readonly port: number;
  readonly protocol: Protocol;
  readonly routes: readonly ServiceRoute[];
}

function isHttp2(protocol: Protocol): boolean {
  return protocol === 'http2' || protocol === 'grpc';
}

/**
 * The egress cluster reaching `target`'s `listener`, added to the context with its endpoints:
 * the target's service-discovery host at the target Envoy's ingress port (a proxyless target
 * serves on its listener port itself). An IP host is an EDS cluster with its assignment in the
 * snapshot; a DNS name is STRICT_DNS (ENDPOINTS) or LOGICAL_DNS (LOADBALANCER). Cloud Map names
 * are resolved through DNS (`service.namespace`): meshd has no Cloud Map API.
 */
export function addEgressCluster(context: EndpointContext, backend: BackendModel, target: TargetNodeModel, listener: ListenerModel): string {
  const { endpoint } = context;
  const tls = upstreamTlsFor(endpoint, backend, target, listener);
  const transportSocket = tls ? { transportSocket: tlsTransportSocket(upstreamTlsContext(tls, context.sdsConfig)) } : {};
  // The target listener's outlier detection is applied here, on the caller's side (App Mesh does).
  const base = { http2: isHttp2(listener.protocol), ...transportSocket, ...egressClusterSettings(listener) };
  const discovery = target.serviceDiscovery;
  const port = target.meshd.proxyless ? listener.port : target.meshd.ingressPort;
  const preferred = egressClusterName(endpoint.meshName, target.name, listener.protocol, listener.port);
  if (!discovery || isIP(discovery.hostname) !== 0) {
    const endpoints = discovery ? [{ host: discovery.hostname, port }] : [];
    const name = context.clusters.add(preferred, (n) => edsCluster({ name: n, ...base }));
    context.loadAssignments.add(name, (n) => clusterLoadAssignment(n, endpoints));
    return name;
  }
  const type = discovery.kind === 'dns' && discovery.responseType === 'LOADBALANCER' ? 'LOGICAL_DNS' : 'STRICT_DNS';
  return context.clusters.add(preferred, (n) => dnsCluster({
    name: n, ...base, type, endpoint: { host: discovery.hostname, port },
    ...(discovery.ipPreference ? { ipPreference: discovery.ipPreference } : {}),
  }));
}

function targetListener(target: TargetNodeModel, port: number | undefined): ListenerModel | undefined {
  if (port !== undefined) return target.listeners.find((listener) => listener.port === port);
  return target.listeners[0];
}

/** Adds the cluster reaching one target listener and returns its name (Envoy or proxyless form). */
export type ClusterAdder = (context: EndpointContext, backend: BackendModel, target: TargetNodeModel, listener: ListenerModel) => string;

/** Weighted clusters of a route's targets; two targets on one cluster add up their weights. */
function routeClusters(context: EndpointContext, backend: BackendModel, route: RouteModel, addCluster: ClusterAdder): WeightedCluster[] {
  const weights = new Map<string, number>();
  for (const weighted of route.weightedTargets) {
    const target = backend.targets.find((candidate) => candidate.id === weighted.nodeId);
    const listener = target && targetListener(target, weighted.port);
    if (!target || !listener) continue;
    const name = addCluster(context, backend, target, listener);
    weights.set(name, (weights.get(name) ?? 0) + weighted.weight);
  }
  return [...weights.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, weight]) => ({ name, weight }));
}

/**
 * The ports, routes and clusters of a backend (its clusters are added to the context by
 * `addCluster`: Envoy egress clusters by default, gRPC ones for proxyless clients).
 */
export function servicePorts(context: EndpointContext, backend: BackendModel, addCluster: ClusterAdder = addEgressCluster): ServicePort[] {
  const { provider } = backend;
  if (provider.kind === 'virtualNode') {
    const target = backend.targets[0];
    if (!target) return [];
    return [...target.listeners].sort((a, b) => a.port - b.port).map((listener) => ({
      port: listener.port,
      protocol: listener.protocol,
      routes: [{ name: 'default', clusters: [{ name: addCluster(context, backend, target, listener), weight: 100 }] }],
    }));
  }
  if (provider.kind === 'none') return [];
  return provider.listeners.map(({ port, protocol }) => ({
    port,
    protocol,
    routes: provider.routes
      .filter((route) => route.protocol === protocol && (route.spec.match?.port === undefined || route.spec.match.port === port))
      .map((route) => ({ name: route.name, model: route, clusters: routeClusters(context, backend, route, addCluster) }))
      .filter((route) => route.clusters.some((cluster) => cluster.weight > 0)),
  })).sort((a, b) => a.port - b.port);
}
