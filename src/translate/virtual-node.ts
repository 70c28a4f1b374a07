// A virtual node's proxy: the ingress listener in front of the local application (one ingress
// cluster and, for HTTP-family listeners, one route configuration per mesh listener) and the
// egress listener through which the application reaches its backends.
import type { ProtoObject } from '../envoy/types';
import { staticCluster } from '../envoy/cluster';
import { filterChain, httpConnectionManagerFilter, listener, originalDstFilter, tcpProxyFilter } from '../envoy/listener';
import { durationOf, grpcRouteMatch, httpRouteMatch, retryPolicy, route, routeAction, routeConfiguration, virtualHost } from '../envoy/route';
import type { BackendModel, ListenerModel } from '../model/types';
import { servicePorts, type ServicePort, type ServiceRoute } from './backends';
import type { EndpointContext } from './context';
import { ingressListener, type IngressChainSpec } from './ingress';
import { ingressClusterSettings, ingressTimeouts, speaksHttp2 } from './listener-settings';
import { egressListenerName, egressRouteName, ingressClusterName, ingressRouteName, listenerStatPrefix } from './names';

/** Ingress cluster, route configuration and filters for one mesh listener of the node. */
function ingressChainSpec(context: EndpointContext, mesh: ListenerModel): IngressChainSpec {
  const { endpoint } = context;
  const settings = ingressClusterSettings(mesh);
  const local = { host: '127.0.0.1', port: mesh.port };
  const cluster = context.clusters.add(
    ingressClusterName(endpoint.meshName, endpoint.name, mesh.protocol, mesh.port),
    (name) => staticCluster({ name, http2: speaksHttp2(mesh), endpoints: [local], ...settings }),
  );
  const timeout = ingressTimeouts(mesh);
  if (mesh.protocol === 'tcp') {
    return {
      listener: mesh,
      filters: [tcpProxyFilter({
        statPrefix: 'ingress', clusters: [{ name: cluster, weight: 1 }],
        ...(timeout.idle ? { idleTimeout: timeout.idle } : {}),
        ...(endpoint.accessLogPath ? { accessLogPath: endpoint.accessLogPath } : {}),
      })],
    };
  }
  const action: ProtoObject = {
    cluster,
    ...(timeout.perRequest ? { timeout: timeout.perRequest } : {}),
    ...(timeout.idle ? { idleTimeout: timeout.idle } : {}),
  };
  const routeName = context.routes.add(
    ingressRouteName(endpoint.meshName, endpoint.name, mesh.protocol, mesh.port),
    (name) => routeConfiguration(name, [virtualHost(`ingress_${mesh.port}`, ['*'], [route('local', { prefix: '/' }, action)])]),
  );
  return {
    listener: mesh,
    filters: [httpConnectionManagerFilter({
      statPrefix: 'ingress', routes: { rds: routeName },
      ...(endpoint.accessLogPath ? { accessLogPath: endpoint.accessLogPath } : {}),
    })],
  };
}

/** An Envoy route of a service route, matching what the App Mesh route matches. */
function envoyRoute(serviceRoute: ServiceRoute): ProtoObject {
  const model = serviceRoute.model;
  // Zero-weight targets stay in weighted_clusters (Envoy accepts them; shifting weight back needs no new route).
  const clusters = serviceRoute.clusters;
  if (!model || model.protocol === 'tcp') return route(serviceRoute.name, { prefix: '/' }, routeAction(clusters));
  const retries = model.spec.retryPolicy ? retryPolicy(model.spec.retryPolicy) : undefined;
  const match = model.protocol === 'grpc' ? grpcRouteMatch(model.spec.match) : httpRouteMatch(model.spec.match);
  return route(serviceRoute.name, match, routeAction(clusters, { timeout: model.spec.timeout, retryPolicy: retries }));
}

/** The virtual hosts of one backend: one per HTTP-family port, the lowest port also answering to the bare name. */
function backendVirtualHosts(backend: BackendModel, ports: readonly ServicePort[]): ProtoObject[] {
  const http = ports.filter((port) => port.protocol !== 'tcp' && port.routes.length > 0);
  return http.map((port, i) => virtualHost(
    `${backend.virtualServiceName}_${port.port}`,
    i === 0 ? [backend.virtualServiceName, `${backend.virtualServiceName}:${port.port}`] : [`${backend.virtualServiceName}:${port.port}`],
    port.routes.map(envoyRoute),
  ));
}

/**
 * The egress listener: plaintext from the local application. HTTP-family backends are routed by
 * Host/:authority (the default chain, one route configuration over RDS). A TCP backend carries no
 * name, so it is routed by the port the application dialled: a chain matched on that destination
 * port (restored by original_dst when iptables redirects to the egress port). Two TCP backends on
 * one port cannot be told apart; the first by virtual-service name gets the port.
 */
function egressListener(context: EndpointContext): ProtoObject {
  const { endpoint } = context;
  const { meshd } = endpoint;
  const log = endpoint.accessLogPath ? { accessLogPath: endpoint.accessLogPath } : {};
  const virtualHosts: ProtoObject[] = [];
  const tcpChains = new Map<number, ProtoObject>();
  for (const backend of endpoint.backends) {
    const ports = servicePorts(context, backend);
    virtualHosts.push(...backendVirtualHosts(backend, ports));
    for (const port of ports) {
      const first = port.routes[0];
      if (port.protocol !== 'tcp' || !first || tcpChains.has(port.port)) continue;
      const model = first.model?.protocol === 'tcp' ? first.model : undefined;
      const idle = model?.spec.timeout?.idle;
      tcpChains.set(port.port, filterChain(`tcp_${port.port}`, { destinationPort: port.port }, [tcpProxyFilter({
        statPrefix: 'egress', clusters: first.clusters.filter((cluster) => cluster.weight > 0),
        ...(idle ? { idleTimeout: durationOf(idle) } : {}), ...log,
      })]));
    }
  }
  const routeName = context.routes.add(egressRouteName(meshd.egressPort), (name) => routeConfiguration(name, virtualHosts));
  const chains = [...tcpChains.entries()].sort(([a], [b]) => a - b).map(([, chain]) => chain);
  chains.push(filterChain('http', {}, [httpConnectionManagerFilter({ statPrefix: 'egress', routes: { rds: routeName }, ...log })]));
  return listener({
    name: egressListenerName(meshd.address, meshd.egressPort),
    address: meshd.address,
    port: meshd.egressPort,
    statPrefix: listenerStatPrefix(meshd.egressPort),
    listenerFilters: tcpChains.size > 0 ? [originalDstFilter()] : [],
    filterChains: chains,
    trafficDirection: 'OUTBOUND',
  });
}

/** Adds a virtual node's listeners, routes, clusters and endpoints to the context. */
export function translateVirtualNode(context: EndpointContext): void {
  const { endpoint } = context;
  const ingress = ingressListener(context, endpoint.listeners.map((mesh) => ingressChainSpec(context, mesh)));
  if (ingress) context.listeners.add(String(ingress.name), () => ingress);
  const egress = egressListener(context);
  context.listeners.add(String(egress.name), () => egress);
}
