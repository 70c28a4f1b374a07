// Step 1 of building the model: index resources by mesh and name, refusing duplicate names and
// resources of meshes that are not declared.
import { nameFieldOf, nameOf, type GatewayRouteResource, type MeshResource, type Resource, type RouteResource, type SecretResource, type VirtualGatewayResource, type VirtualNodeResource, type VirtualRouterResource, type VirtualServiceResource } from '../spec/resource-schema';
import { isInvalid, report, whereDeclared, type ModelContext } from './context';

/** Resources by `<mesh>/<name>` (routes and gateway routes grouped by `<mesh>/<parent>`). */
export interface ResourceIndex {
  readonly meshes: ReadonlyMap<string, MeshResource>;
  readonly nodes: ReadonlyMap<string, VirtualNodeResource>;
  readonly gateways: ReadonlyMap<string, VirtualGatewayResource>;
  readonly services: ReadonlyMap<string, VirtualServiceResource>;
  readonly routers: ReadonlyMap<string, VirtualRouterResource>;
  readonly routesByRouter: ReadonlyMap<string, readonly RouteResource[]>;
  readonly gatewayRoutesByGateway: ReadonlyMap<string, readonly GatewayRouteResource[]>;
  readonly secrets: ReadonlyMap<string, SecretResource>;
}

/** `<mesh>/<name>`. */
export function meshKey(meshName: string, name: string): string {
  return `${meshName}/${name}`;
}

function uniqueKey(resource: Resource): string {
  switch (resource.kind) {
    case 'Route': return `Route|${resource.meshName}|${resource.virtualRouterName}|${resource.routeName}`;
    case 'GatewayRoute': return `GatewayRoute|${resource.meshName}|${resource.virtualGatewayName}|${resource.gatewayRouteName}`;
    default: return `${resource.kind}|${resource.meshName}|${nameOf(resource)}`;
  }
}

export function indexResources(context: ModelContext, resources: readonly Resource[]): ResourceIndex {
  const seen = new Map<string, Resource>();
  const unique: Resource[] = [];
  for (const resource of resources) {
    const key = uniqueKey(resource);
    const first = seen.get(key);
    if (first) {
      report(context, resource, nameFieldOf[resource.kind], `duplicate name: already defined in ${whereDeclared(first)}`);
      continue;
    }
    seen.set(key, resource);
    unique.push(resource);
  }

  const meshes = new Map<string, MeshResource>();
  for (const resource of unique) if (resource.kind === 'Mesh') meshes.set(resource.meshName, resource);

  const index = {
    meshes,
    nodes: new Map<string, VirtualNodeResource>(),
    gateways: new Map<string, VirtualGatewayResource>(),
    services: new Map<string, VirtualServiceResource>(),
    routers: new Map<string, VirtualRouterResource>(),
    routesByRouter: new Map<string, RouteResource[]>(),
    gatewayRoutesByGateway: new Map<string, GatewayRouteResource[]>(),
    secrets: new Map<string, SecretResource>(),
  };
  for (const resource of unique) {
    if (resource.kind === 'Mesh') continue;
    // A mesh that is declared but failed its schema still has what it holds checked, so their
    // errors come in the same run (the mesh's own errors refuse the change anyway).
    if (!meshes.has(resource.meshName) && !isInvalid(context, 'Mesh', resource.meshName, resource.meshName)) {
      report(context, resource, 'meshName', `mesh "${resource.meshName}" does not exist`);
      continue;
    }
    const key = meshKey(resource.meshName, nameOf(resource));
    switch (resource.kind) {
      case 'VirtualNode': index.nodes.set(key, resource); break;
      case 'VirtualGateway': index.gateways.set(key, resource); break;
      case 'VirtualService': index.services.set(key, resource); break;
      case 'VirtualRouter': index.routers.set(key, resource); break;
      case 'Secret': index.secrets.set(key, resource); break;
      case 'Route': {
        const group = meshKey(resource.meshName, resource.virtualRouterName);
        index.routesByRouter.set(group, [...(index.routesByRouter.get(group) ?? []), resource]);
        break;
      }
      case 'GatewayRoute': {
        const group = meshKey(resource.meshName, resource.virtualGatewayName);
        index.gatewayRoutesByGateway.set(group, [...(index.gatewayRoutesByGateway.get(group) ?? []), resource]);
        break;
      }
    }
  }
  return index;
}
