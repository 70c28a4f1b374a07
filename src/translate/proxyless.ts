// The proxyless form of a virtual node: what an xDS-enabled gRPC library (grpc-js-xds,
// grpc-java, grpc-go) is served instead of an Envoy configuration.
//
// Server side (gRFC A36): per mesh listener, Listeners named by the bootstrap's
// server_listener_resource_name_template with an address the gRPC server may bind, each with that
// same address as its socket_address (grpc-js-xds refuses a listener whose address differs from the
// bound one). A server almost always binds the wildcard, so both wildcard forms are served
// (`0.0.0.0:<port>`, `[::]:<port>`), plus the endpoint's own addresses: `meshd.address` when set
// and the service-discovery host when it is an IP literal (e.g. `127.0.0.1:50051`, `[::1]:50051`).
// The snapshot is fixed per node, so these are the names a server of this node can ask for.
// One filter chain without a filter_chain_match (grpc-js-xds only matches chains whose
// transport_protocol is raw_buffer, so chains cannot be selected by TLS vs plaintext), holding an
// http_connection_manager with an inline route configuration whose routes are
// non_forwarding_action (a gRPC server rejects requests matching any other action) and the router
// filter last. TLS modes: STRICT -> the chain carries a DownstreamTlsContext; DISABLED or no tls ->
// plaintext; PERMISSIVE -> TLS only, as STRICT (TLS and plaintext on one port needs the TLS
// inspector, which gRPC has not: server.ts normalizeFilterChainMatch drops chains whose
// transport_protocol is not raw_buffer). mesh clients negotiate TLS with a PERMISSIVE server
// anyway (003 "Without client policies").
//
// Client side (gRFC A27/A29): per backend virtual service, an API listener named by the name the
// client dials (`xds:///<virtualServiceName>` asks for `<virtualServiceName>`; `...:<port>` for
// each service port), its routes over RDS (weighted clusters for router-provided services), one
// cluster per target node and listener with an UpstreamTlsContext from the same client-policy
// rules as Envoy (upstream-tls.ts), and the target's endpoints: EDS for an IP address, LOGICAL_DNS
// for a host name (gRPC has no STRICT_DNS). A proxyless target is reached on its listener port,
// an Envoy target on its ingress port.
import { isIP } from 'node:net';
import type { ProtoObject } from '../envoy/types';
import { dnsCluster, edsCluster } from '../envoy/cluster';
import { GRPC_SERVER_LISTENER_TEMPLATE } from '../envoy/grpc-bootstrap';
import { httpConnectionManagerFilter } from '../envoy/listener';
import { grpcRouteMatch, httpRouteMatch, retryPolicy, route, routeAction, routeConfiguration, virtualHost } from '../envoy/route';
import type { BackendModel, EndpointModel, ListenerModel, TargetNodeModel } from '../model/types';
import { servicePorts, type ServicePort, type ServiceRoute } from './backends';
import type { EndpointContext } from './context';
import { egressClusterName } from './names';
import { proxylessClientTransportSocket, proxylessServerTransportSocket } from './proxyless-tls';
import { upstreamTlsFor } from './upstream-tls';

/** Which configuration an endpoint is served: Envoy's, or gRPC's own xDS form. */
export type EndpointForm = 'grpc' | 'envoy';

/** The form an endpoint is served, decided by the model (`meshd.proxyless` on a virtual node). */
export function formOf(endpoint: EndpointModel): EndpointForm {
  return endpoint.kind === 'virtualNode' && endpoint.meshd.proxyless ? 'grpc' : 'envoy';
}

/** `<address>:<port>` as a gRPC server binds it (IPv6 in brackets). */
export function grpcListeningAddress(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The A36 server Listener name for a listening address (the bootstrap template, `%s` filled in). */
export function grpcServerListenerName(address: string, port: number): string {
  return GRPC_SERVER_LISTENER_TEMPLATE.replace('%s', grpcListeningAddress(address, port));
}

/** The RouteConfiguration a proxyless client uses for one port of a virtual service. */
export function grpcClientRouteName(virtualServiceName: string, port: number): string {
  return `rds_grpc_${virtualServiceName}_${port}`;
}

/** The inline routes of a gRPC server: every request is served by the application itself. */
function serverRoutes(endpoint: EndpointModel, mesh: ListenerModel): ProtoObject {
  return routeConfiguration(`inbound_${endpoint.name}_${mesh.port}`, [{
    name: `inbound_${mesh.port}`,
    domains: ['*'],
    routes: [{ name: 'local', match: { prefix: '/' }, nonForwardingAction: {} }],
  }]);
}

/** Wildcard addresses a gRPC server binds to listen on every interface, IPv4 and IPv6. */
const WILDCARD_ADDRESSES = ['0.0.0.0', '::'] as const;

/**
 * Every address a proxyless node's gRPC server may bind and be served for: the wildcards, then
 * `meshd.address` and the service-discovery host when it is an IP literal (without duplicates).
 */
export function grpcServerAddresses(endpoint: EndpointModel): string[] {
  const own = [endpoint.meshd.address, endpoint.serviceDiscovery?.hostname ?? ''].filter((address) => isIP(address) !== 0);
  return [...new Set([...WILDCARD_ADDRESSES, ...own])];
}

/** The A36 server Listener for one mesh listener of a proxyless node, bound at `address`. */
export function grpcServerListener(endpoint: EndpointModel, mesh: ListenerModel, address: string): ProtoObject {
  const hcm = httpConnectionManagerFilter({ statPrefix: `inbound_${mesh.port}`, routes: { inline: serverRoutes(endpoint, mesh) } });
  const tls = mesh.tls && mesh.tls.mode !== 'DISABLED' ? mesh.tls : undefined;
  return {
    name: grpcServerListenerName(address, mesh.port),
    address: { socketAddress: { address, portValue: mesh.port } },
    filterChains: [{
      name: `${mesh.protocol}_${mesh.port}_${tls ? 'tls' : 'plaintext'}`,
      filters: [hcm],
      ...(tls ? { transportSocket: proxylessServerTransportSocket(tls) } : {}),
    }],
    trafficDirection: 'INBOUND',
  };
}

/** The gRPC cluster reaching `target`'s `listener`, added to the context with its endpoints. */
export function addGrpcCluster(context: EndpointContext, backend: BackendModel, target: TargetNodeModel, listener: ListenerModel): string {
  const { endpoint } = context;
  const tls = upstreamTlsFor(endpoint, backend, target, listener);
  const base = { http2: true, ...(tls ? { transportSocket: proxylessClientTransportSocket(tls) } : {}) };
  const port = target.meshd.proxyless ? listener.port : target.meshd.ingressPort;
  const preferred = egressClusterName(endpoint.meshName, target.name, listener.protocol, listener.port);
  const discovery = target.serviceDiscovery;
  if (!discovery || isIP(discovery.hostname) !== 0) {
    const endpoints = discovery ? [{ host: discovery.hostname, port }] : [];
    const name = context.clusters.add(preferred, (n) => edsCluster({ name: n, ...base }));
    context.loadAssignments.add(name, (n) => grpcLoadAssignment(n, endpoints));
    return name;
  }
  return context.clusters.add(preferred, (n) => dnsCluster({
    name: n, ...base, type: 'LOGICAL_DNS', endpoint: { host: discovery.hostname, port },
    ...(discovery.ipPreference ? { ipPreference: discovery.ipPreference } : {}),
  }));
}

/**
 * A ClusterLoadAssignment as gRPC wants it: every locality set (grpc-js-xds rejects an unset
 * one) and weighted (gRPC skips localities without a load_balancing_weight).
 */
export function grpcLoadAssignment(clusterName: string, endpoints: readonly { host: string; port: number }[]): ProtoObject {
  if (endpoints.length === 0) return { clusterName };
  return {
    clusterName,
    endpoints: [{
      locality: {},
      loadBalancingWeight: { value: 1 },
      lbEndpoints: endpoints.map((endpoint) => ({
        endpoint: { address: { socketAddress: { address: endpoint.host, portValue: endpoint.port } } },
        loadBalancingWeight: { value: 1 },
      })),
    }],
  };
}

/** A route as gRPC reads it: the App Mesh match, weighted clusters and retries. */
function grpcClientRoute(serviceRoute: ServiceRoute): ProtoObject {
  const model = serviceRoute.model;
  if (!model || model.protocol === 'tcp') return route(serviceRoute.name, { prefix: '/' }, routeAction(serviceRoute.clusters));
  const retries = model.spec.retryPolicy ? retryPolicy(model.spec.retryPolicy) : undefined;
  const match = model.protocol === 'grpc' ? grpcRouteMatch(model.spec.match) : httpRouteMatch(model.spec.match);
  return route(serviceRoute.name, match, routeAction(serviceRoute.clusters, { retryPolicy: retries }));
}

/** The API listener, routes and clusters through which a proxyless client reaches one backend. */
function addGrpcBackend(context: EndpointContext, backend: BackendModel): void {
  const name = backend.virtualServiceName;
  const ports: ServicePort[] = servicePorts(context, backend, addGrpcCluster)
    .filter((port) => port.protocol !== 'tcp' && port.routes.length > 0);
  ports.forEach((port, i) => {
    const routeName = context.routes.add(grpcClientRouteName(name, port.port), (n) => routeConfiguration(n, [
      virtualHost(`${name}_${port.port}`, i === 0 ? [name, `${name}:${port.port}`] : [`${name}:${port.port}`], port.routes.map(grpcClientRoute)),
    ]));
    const hcm = httpConnectionManagerFilter({ statPrefix: `outbound_${name}_${port.port}`, routes: { rds: routeName } });
    const listenerNames = i === 0 ? [name, `${name}:${port.port}`] : [`${name}:${port.port}`];
    for (const listenerName of listenerNames) {
      context.listeners.add(listenerName, (n) => ({ name: n, apiListener: { apiListener: hcm.typedConfig as ProtoObject } }));
    }
  });
}

/** Adds a proxyless node's server listeners and its backends' client resources to the context. */
export function translateProxylessNode(context: EndpointContext): void {
  const { endpoint } = context;
  for (const mesh of endpoint.listeners) {
    for (const address of grpcServerAddresses(endpoint)) {
      const listener = grpcServerListener(endpoint, mesh, address);
      context.listeners.add(String(listener.name), () => listener);
    }
  }
  for (const backend of endpoint.backends) addGrpcBackend(context, backend);
}
