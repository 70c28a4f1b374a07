// A virtual gateway's proxy: ingress listener(s) terminating TLS per their `tls`, routing by the
// gateway routes to the target virtual services' nodes through egress-style clusters (whose TLS
// follows the gateway's backendDefaults client policy, its only kind of client policy).
//
// Gateway route hostname matches select virtual hosts (exact name, or `*<suffix>`; the port is
// stripped from Host first); routes without a hostname match sit in the `*` virtual host and are
// appended, in priority order, to every hostname virtual host too so they still apply there.
// A target provided by a virtual router is routed with the weights of the router's first route
// (in priority order) of the listener's protocol family: Envoy cannot chain two route tables.
import type { ProtoObject } from '../envoy/types';
import { httpConnectionManagerFilter } from '../envoy/listener';
import type { WeightedCluster } from '../envoy/listener';
import { grpcRouteMatch, httpRouteMatch, route, routeAction, routeConfiguration, virtualHost } from '../envoy/route';
import type { GatewayRouteModel, ListenerModel } from '../model/types';
import { servicePorts } from './backends';
import type { EndpointContext } from './context';
import { ingressListener, type IngressChainSpec } from './ingress';
import { ingressRouteName } from './names';

function targetClusters(context: EndpointContext, gatewayRoute: GatewayRouteModel): WeightedCluster[] {
  const backend = context.endpoint.backends.find((candidate) => candidate.virtualServiceName === gatewayRoute.virtualServiceName);
  if (!backend) return [];
  const wantedPort = gatewayRoute.spec.action.target.port;
  const ports = servicePorts(context, backend).filter((port) => port.protocol !== 'tcp' && port.routes.length > 0);
  const port = wantedPort === undefined ? ports[0] : ports.find((candidate) => candidate.port === wantedPort);
  return [...(port?.routes[0]?.clusters ?? [])];
}

function domainOf(gatewayRoute: GatewayRouteModel): string | undefined {
  const hostname = gatewayRoute.spec.match.hostname;
  if (!hostname) return undefined;
  return hostname.exact !== undefined ? hostname.exact.toLowerCase() : `*${hostname.suffix!.toLowerCase()}`;
}

function prefixRewrite(gatewayRoute: GatewayRouteModel): { prefixRewrite?: string; pathRewrite?: string } {
  if (gatewayRoute.protocol === 'grpc') return {};
  const { match, action } = gatewayRoute.spec;
  const rewrite = action.rewrite;
  if (rewrite?.path) return { pathRewrite: rewrite.path.exact };
  if (match.prefix === undefined || match.prefix === '/') return {};
  // App Mesh rewrites a matched prefix to "/" unless told otherwise (defaultPrefix ENABLED).
  if (rewrite?.prefix?.value !== undefined) return { prefixRewrite: rewrite.prefix.value };
  if (rewrite?.prefix?.defaultPrefix === 'DISABLED') return {};
  return { prefixRewrite: '/' };
}

function envoyGatewayRoute(context: EndpointContext, gatewayRoute: GatewayRouteModel): ProtoObject | undefined {
  const clusters = targetClusters(context, gatewayRoute);
  if (clusters.length === 0) return undefined;
  const keepHost = gatewayRoute.spec.action.rewrite?.hostname?.defaultTargetHostname === 'DISABLED';
  const match = gatewayRoute.protocol === 'grpc' ? grpcRouteMatch(gatewayRoute.spec.match) : httpRouteMatch(gatewayRoute.spec.match);
  return route(gatewayRoute.name, match, routeAction(clusters, {
    ...(keepHost ? {} : { hostRewriteLiteral: gatewayRoute.virtualServiceName }),
    ...prefixRewrite(gatewayRoute),
  }));
}

function gatewayChainSpec(context: EndpointContext, mesh: ListenerModel): IngressChainSpec {
  const { endpoint } = context;
  const routes = endpoint.gatewayRoutes
    .filter((candidate) => candidate.protocol === mesh.protocol)
    .filter((candidate) => candidate.spec.match.port === undefined || candidate.spec.match.port === mesh.port)
    .flatMap((candidate) => {
      const envoy = envoyGatewayRoute(context, candidate);
      return envoy ? [{ domain: domainOf(candidate), route: envoy }] : [];
    });
  const general = routes.filter((entry) => entry.domain === undefined);
  const domains = [...new Set(routes.flatMap((entry) => (entry.domain === undefined ? [] : [entry.domain])))].sort();
  const hosts = domains.map((domain) => virtualHost(domain, [domain],
    routes.filter((entry) => entry.domain === domain || entry.domain === undefined).map((entry) => entry.route)));
  if (general.length > 0) hosts.push(virtualHost('*', ['*'], general.map((entry) => entry.route)));
  const routeName = context.routes.add(
    ingressRouteName(endpoint.meshName, endpoint.name, mesh.protocol, mesh.port),
    (name) => routeConfiguration(name, hosts),
  );
  return {
    listener: mesh,
    filters: [httpConnectionManagerFilter({
      statPrefix: 'ingress', routes: { rds: routeName }, stripAnyHostPort: true,
      ...(endpoint.accessLogPath ? { accessLogPath: endpoint.accessLogPath } : {}),
    })],
  };
}

/** Adds a virtual gateway's listener, routes, clusters and endpoints to the context. */
export function translateVirtualGateway(context: EndpointContext): void {
  const ingress = ingressListener(context, context.endpoint.listeners.map((mesh) => gatewayChainSpec(context, mesh)));
  if (ingress) context.listeners.add(String(ingress.name), () => ingress);
}
