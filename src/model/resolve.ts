// Step 3 of building the model: resolve virtual services to the nodes that serve them, through
// virtual routers and their routes, checking every reference on the way.
import type { Protocol } from '../spec/common-schema';
import type { RouteResource, VirtualServiceResource } from '../spec/resource-schema';
import { isInvalid, report, type ModelContext } from './context';
import { endpointKey } from '../identity/endpoint-id';
import { meshKey, type ResourceIndex } from './index-resources';
import type { ProviderModel, RouteModel, TargetNodeModel, WeightedTargetModel } from './types';

/** A virtual service, resolved. */
export interface ResolvedService {
  readonly provider: ProviderModel;
  /** Keys (`<mesh>/<node>`) of the nodes it can send to. */
  readonly nodeKeys: readonly string[];
}

const routeMembers = ['httpRoute', 'http2Route', 'grpcRoute', 'tcpRoute'] as const;
const protocolOfMember: Readonly<Record<(typeof routeMembers)[number], Protocol>> = {
  httpRoute: 'http', http2Route: 'http2', grpcRoute: 'grpc', tcpRoute: 'tcp',
};

/** Route order: App Mesh evaluates lower priority numbers first, unprioritized last; then by name. */
export function byPriorityThenName(a: { priority?: number; name: string }, b: { priority?: number; name: string }): number {
  const pa = a.priority ?? Number.MAX_SAFE_INTEGER;
  const pb = b.priority ?? Number.MAX_SAFE_INTEGER;
  if (pa !== pb) return pa - pb;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function resolveRoute(
  context: ModelContext,
  index: ResourceIndex,
  targets: ReadonlyMap<string, TargetNodeModel>,
  route: RouteResource,
  routerProtocols: readonly Protocol[],
): RouteModel | undefined {
  const member = routeMembers.find((key) => route.spec[key] !== undefined)!;
  const protocol = protocolOfMember[member];
  const body = route.spec[member]!;
  if (routerProtocols.length > 0 && !routerProtocols.includes(protocol)) {
    report(context, route, `spec.${member}`, `virtual router "${route.virtualRouterName}" has no ${protocol} listener (it has ${routerProtocols.join(', ')})`);
  }
  const actionPath = `spec.${member}.action.weightedTargets`;
  const weightedTargets: WeightedTargetModel[] = [];
  body.action.weightedTargets.forEach((target, i) => {
    const key = meshKey(route.meshName, target.virtualNode);
    const node = targets.get(key);
    if (!index.nodes.has(key)) {
      if (!isInvalid(context, 'VirtualNode', route.meshName, target.virtualNode)) {
        report(context, route, `${actionPath}[${i}].virtualNode`, `virtual node "${target.virtualNode}" does not exist in mesh "${route.meshName}"`);
      }
    } else if (node && target.port !== undefined && !node.listeners.some((listener) => listener.port === target.port)) {
      report(context, route, `${actionPath}[${i}].port`, `virtual node "${target.virtualNode}" has no listener on port ${target.port}`);
    } else if (node && target.port === undefined && node.listeners.length > 1) {
      report(context, route, `${actionPath}[${i}].port`, `is required: virtual node "${target.virtualNode}" has ${node.listeners.length} listeners`);
    }
    weightedTargets.push({
      virtualNode: target.virtualNode,
      nodeId: endpointKey(route.meshName, 'virtualNode', target.virtualNode),
      weight: target.weight,
      ...(target.port !== undefined ? { port: target.port } : {}),
    });
  });
  if (weightedTargets.every((target) => target.weight === 0)) {
    report(context, route, actionPath, 'weights are all zero: the route would send no traffic');
  }
  const base = { name: route.routeName, ...(route.spec.priority !== undefined ? { priority: route.spec.priority } : {}), weightedTargets };
  switch (member) {
    case 'grpcRoute': return { ...base, protocol: 'grpc', spec: route.spec.grpcRoute! };
    case 'tcpRoute': return { ...base, protocol: 'tcp', spec: route.spec.tcpRoute! };
    default: return { ...base, protocol: protocol as 'http' | 'http2', spec: route.spec[member]! };
  }
}

/**
 * The routes of the router `routerKey` (`<mesh>/<router>`), resolved and checked, in priority
 * order; none when no route names it.
 */
export function resolveRouterRoutes(
  context: ModelContext,
  index: ResourceIndex,
  targets: ReadonlyMap<string, TargetNodeModel>,
  routerKey: string,
): RouteModel[] {
  const routes = index.routesByRouter.get(routerKey) ?? [];
  const router = index.routers.get(routerKey);
  const routerProtocols = router?.spec.listeners.map((listener) => listener.portMapping.protocol) ?? [];
  const resolved: RouteModel[] = [];
  for (const route of routes) {
    if (!router && !isInvalid(context, 'VirtualRouter', route.meshName, route.virtualRouterName)) {
      report(context, route, 'virtualRouterName', `virtual router "${route.virtualRouterName}" does not exist in mesh "${route.meshName}"`);
    }
    const model = resolveRoute(context, index, targets, route, routerProtocols);
    if (model) resolved.push(model);
  }
  return resolved.sort(byPriorityThenName);
}

/** One virtual service with its provider resolved, given every router's resolved routes. */
export function resolveService(
  context: ModelContext,
  index: ResourceIndex,
  routesByRouter: ReadonlyMap<string, readonly RouteModel[]>,
  service: VirtualServiceResource,
): ResolvedService {
  const provider = service.spec.provider;
  if (provider?.virtualNode) {
    const name = provider.virtualNode.virtualNodeName;
    const nodeKey = meshKey(service.meshName, name);
    if (!index.nodes.has(nodeKey) && !isInvalid(context, 'VirtualNode', service.meshName, name)) {
      report(context, service, 'spec.provider.virtualNode.virtualNodeName', `virtual node "${name}" does not exist in mesh "${service.meshName}"`);
    }
    return { provider: { kind: 'virtualNode', virtualNodeName: name }, nodeKeys: index.nodes.has(nodeKey) ? [nodeKey] : [] };
  }
  if (provider?.virtualRouter) {
    const name = provider.virtualRouter.virtualRouterName;
    const routerKey = meshKey(service.meshName, name);
    const router = index.routers.get(routerKey);
    if (!router && !isInvalid(context, 'VirtualRouter', service.meshName, name)) {
      report(context, service, 'spec.provider.virtualRouter.virtualRouterName', `virtual router "${name}" does not exist in mesh "${service.meshName}"`);
    }
    const routes = routesByRouter.get(routerKey) ?? [];
    const nodeKeys = new Set<string>();
    for (const route of routes) {
      for (const target of route.weightedTargets) {
        const nodeKey = meshKey(service.meshName, target.virtualNode);
        if (index.nodes.has(nodeKey)) nodeKeys.add(nodeKey);
      }
    }
    return {
      provider: {
        kind: 'virtualRouter',
        virtualRouterName: name,
        listeners: (router?.spec.listeners ?? []).map((listener) => ({ ...listener.portMapping })),
        routes,
      },
      nodeKeys: [...nodeKeys].sort(),
    };
  }
  return { provider: { kind: 'none' }, nodeKeys: [] };
}

/** Every router's routes and every virtual service, by `<mesh>/<name>`, resolved and checked. */
export interface ResolvedServices {
  /** Resolved routes by router key (routers no route names are absent). */
  readonly routesByRouter: Map<string, RouteModel[]>;
  readonly services: Map<string, ResolvedService>;
}

/** Resolve every router's routes (checking them even when no service uses the router), then every virtual service. */
export function resolveServices(
  context: ModelContext,
  index: ResourceIndex,
  targets: ReadonlyMap<string, TargetNodeModel>,
): ResolvedServices {
  const routesByRouter = new Map<string, RouteModel[]>();
  for (const routerKey of index.routesByRouter.keys()) routesByRouter.set(routerKey, resolveRouterRoutes(context, index, targets, routerKey));
  const services = new Map<string, ResolvedService>();
  for (const [key, service] of index.services) services.set(key, resolveService(context, index, routesByRouter, service));
  return { routesByRouter, services };
}
