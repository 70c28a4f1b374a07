// An incremental model build. A watcher's loads give back the very same resource objects for the
// files that did not change (the parse cache), so comparing a load's resources with the last
// valid build's by identity tells which were replaced, added or removed. Only those are indexed
// again, and only what depends on them is redone: the endpoint facts of changed nodes, the routers
// whose routes name them, the services they provide or that resolve through those routers, and
// the endpoints that call those services (their backends and targets). Everything else of the
// last build is kept as it was, frozen.
//
// The incremental path is taken only where it is known to give what a full build gives: no schema
// failures in the load, the same trust domain, a handful of changed resources, all of kinds it
// follows (virtual nodes, services, routers and routes). It never reports errors itself: a change
// it finds anything wrong with is built in full, so errors are exactly the full build's (every one
// of them, in the same order). With MESHD_VERIFY_INCREMENTAL_BUILD=1 every incremental model is
// compared with a full build of the same resources, and a difference throws.
import type { Resource, ResourceKind, RouteResource, VirtualGatewayResource, VirtualNodeResource, VirtualRouterResource, VirtualServiceResource } from '../spec/resource-schema';
import { nameOf } from '../spec/resource-schema';
import { sortErrors } from '../spec/errors';
import { DEFAULT_TRUST_DOMAIN, endpointKey } from '../identity/endpoint-id';
import { buildModelWithParts, endpointsById, gatewayEndpoint, keptFacts, nodeEndpoint, targetOf, type BuildOptions, type BuildParts, type BuildResult } from './build';
import { newContext, type ModelContext } from './context';
import { endpointFacts, type EndpointFacts } from './endpoint-facts';
import { deepFreeze } from './hash';
import { meshKey, type ResourceIndex } from './index-resources';
import { resolveRouterRoutes, resolveService, type ResolvedService } from './resolve';
import { checkIdentityClaims } from './spiffe-identity';
import type { EndpointModel, MeshModel, RouteModel, TargetNodeModel } from './types';
import { cloudMapWarnings, hasCloudMapAttributes } from './warnings';

/** Set to 1 to check every incremental build against a full one (tests do). */
export const VERIFY_INCREMENTAL_BUILD_ENV = 'MESHD_VERIFY_INCREMENTAL_BUILD';

/** Kinds whose changes are built incrementally; a change to any other kind builds in full. */
const INCREMENTAL_KINDS: ReadonlySet<ResourceKind> = new Set<ResourceKind>(['VirtualNode', 'VirtualService', 'VirtualRouter', 'Route']);

/** Past this many changed resources, a full build: it costs little more, and is the reference. */
const MAX_INCREMENTAL_CHANGES = 64;

/** The last valid build: what it was built from, its parts and its model. */
interface LastBuild {
  readonly trustDomain: string;
  readonly resources: ReadonlySet<Resource>;
  readonly parts: BuildParts;
  readonly model: MeshModel;
}

/** How a build was made: incrementally from the last valid one, or in full. */
export type BuildKind = 'incremental' | 'full';

/** An index whose maps are this build's own copies (the last build's stay as they were). */
interface IndexCopy extends ResourceIndex {
  readonly nodes: Map<string, VirtualNodeResource>;
  readonly services: Map<string, VirtualServiceResource>;
  readonly routers: Map<string, VirtualRouterResource>;
  readonly routesByRouter: Map<string, readonly RouteResource[]>;
}

/** The resources of the load that are not in the last build, and those of the last build that are gone. */
interface ResourceChanges {
  readonly added: readonly Resource[];
  readonly removed: readonly Resource[];
  readonly present: ReadonlySet<Resource>;
}

/** Builds models for one source (a watcher's directory), incrementally where it safely can. */
export class BuildMemo {
  private last: LastBuild | undefined;
  /** How the latest build was made (tests and logs read it). */
  lastBuildKind: BuildKind | undefined;

  /** The model of `resources`, as `buildModel` gives it. */
  build(resources: readonly Resource[], options: BuildOptions = {}): BuildResult {
    const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    const incremental = (options.invalid ?? []).length === 0 ? this.buildIncrementally(resources, trustDomain) : undefined;
    if (incremental) {
      if (process.env[VERIFY_INCREMENTAL_BUILD_ENV] === '1') verifyAgainstFullBuild(resources, trustDomain, incremental.model);
      this.last = incremental;
      this.lastBuildKind = 'incremental';
      return { ok: true, model: incremental.model };
    }
    const { result, parts } = buildModelWithParts(resources, options);
    // A build with invalid resources leaves out what refers to them without an error: no start
    // for an incremental build, which would not know to add those references back.
    if (result.ok && parts && (options.invalid ?? []).length === 0) this.last = { trustDomain, resources: new Set(resources), parts, model: result.model };
    this.lastBuildKind = 'full';
    return result;
  }

  /** The build from the last one, or undefined where a full build must be made. */
  private buildIncrementally(resources: readonly Resource[], trustDomain: string): LastBuild | undefined {
    const last = this.last;
    if (!last || last.trustDomain !== trustDomain) return undefined;
    const changes = changesSince(last.resources, resources);
    if (!changes) return undefined;
    const index = copyIndex(last.parts.index, new Set([...changes.added, ...changes.removed].map((resource) => resource.kind)));
    for (const resource of changes.removed) if (!unindex(index, resource)) return undefined;
    for (const resource of changes.added) if (!reindex(index, resource)) return undefined;

    const context = newContext(trustDomain, []);
    const rebuilt = rebuild(context, index, last, changes);
    // Anything wrong: the full build reports it, with every other error, in its order.
    if (context.errors.length > 0) return undefined;
    return { trustDomain, resources: changes.present, parts: rebuilt.parts, model: rebuilt.model };
  }
}

/** What changed between the last build's resources and these; undefined when it is too much or of a kind not followed. */
function changesSince(before: ReadonlySet<Resource>, resources: readonly Resource[]): ResourceChanges | undefined {
  const added: Resource[] = [];
  const present = new Set<Resource>();
  for (const resource of resources) {
    present.add(resource);
    if (before.has(resource)) continue;
    added.push(resource);
    if (added.length > MAX_INCREMENTAL_CHANGES || !INCREMENTAL_KINDS.has(resource.kind)) return undefined;
  }
  // The same object twice is no load a parse gives; leave it to the full build.
  if (present.size !== resources.length) return undefined;
  const removed: Resource[] = [];
  if (before.size !== present.size - added.length) {
    for (const resource of before) {
      if (present.has(resource)) continue;
      removed.push(resource);
      if (added.length + removed.length > MAX_INCREMENTAL_CHANGES || !INCREMENTAL_KINDS.has(resource.kind)) return undefined;
    }
  }
  return { added, removed, present };
}

/** The index with its own copies of the maps of `kinds` (the others are shared, and left as they are). */
function copyIndex(index: ResourceIndex, kinds: ReadonlySet<ResourceKind>): IndexCopy {
  const copy = <T>(kind: ResourceKind, map: ReadonlyMap<string, T>): Map<string, T> => (kinds.has(kind) ? new Map(map) : map as Map<string, T>);
  return {
    ...index,
    nodes: copy('VirtualNode', index.nodes),
    services: copy('VirtualService', index.services),
    routers: copy('VirtualRouter', index.routers),
    routesByRouter: copy('Route', index.routesByRouter),
  };
}

/** Takes a resource of the last build out of the index; false if it is not where that build put it. */
function unindex(index: IndexCopy, resource: Resource): boolean {
  const key = meshKey(resource.meshName, nameOf(resource));
  switch (resource.kind) {
    case 'VirtualNode': return index.nodes.get(key) === resource && index.nodes.delete(key);
    case 'VirtualService': return index.services.get(key) === resource && index.services.delete(key);
    case 'VirtualRouter': return index.routers.get(key) === resource && index.routers.delete(key);
    case 'Route': {
      const group = meshKey(resource.meshName, resource.virtualRouterName);
      const routes = index.routesByRouter.get(group) ?? [];
      if (!routes.includes(resource)) return false;
      if (routes.length === 1) index.routesByRouter.delete(group);
      else index.routesByRouter.set(group, routes.filter((route) => route !== resource));
      return true;
    }
    default: return false;
  }
}

/** Indexes a new resource; false when the full build would refuse it here (no such mesh, a duplicate name). */
function reindex(index: IndexCopy, resource: Resource): boolean {
  if (!index.meshes.has(resource.meshName)) return false;
  const key = meshKey(resource.meshName, nameOf(resource));
  const add = <T>(map: Map<string, T>, value: T): boolean => {
    if (map.has(key)) return false;
    map.set(key, value);
    return true;
  };
  switch (resource.kind) {
    case 'VirtualNode': return add(index.nodes, resource);
    case 'VirtualService': return add(index.services, resource);
    case 'VirtualRouter': return add(index.routers, resource);
    case 'Route': {
      const group = meshKey(resource.meshName, resource.virtualRouterName);
      const routes = index.routesByRouter.get(group) ?? [];
      if (routes.some((route) => route.routeName === resource.routeName)) return false;
      index.routesByRouter.set(group, [...routes, resource]);
      return true;
    }
    default: return false;
  }
}

/** Names by mesh: sets of `<mesh>/<name>` keys without building a key per lookup. */
class NamesByMesh {
  private readonly byMesh = new Map<string, Set<string>>();

  add(meshName: string, name: string): void {
    let names = this.byMesh.get(meshName);
    if (!names) this.byMesh.set(meshName, (names = new Set()));
    names.add(name);
  }

  has(meshName: string, name: string): boolean {
    return this.byMesh.get(meshName)?.has(name) ?? false;
  }

  *keys(): IterableIterator<string> {
    for (const [meshName, names] of this.byMesh) for (const name of names) yield meshKey(meshName, name);
  }
}

/** The names of the resources of `kind` among `resources` (routes: their routers'). */
function namesOf(resources: readonly Resource[], kind: ResourceKind, into = new NamesByMesh()): NamesByMesh {
  for (const resource of resources) {
    if (resource.kind !== kind) continue;
    into.add(resource.meshName, resource.kind === 'Route' ? resource.virtualRouterName : nameOf(resource));
  }
  return into;
}

/** What depends on the changed resources, step by step. */
interface Affected {
  /** Virtual nodes added, replaced or removed. */
  readonly nodes: NamesByMesh;
  /** Routers whose routes are resolved again: changed ones, those of changed routes, those whose routes name a changed node. */
  readonly routers: NamesByMesh;
  /** Services resolved again: changed ones, those a changed node provides, those resolved through an affected router. */
  readonly services: NamesByMesh;
  /** Endpoints assembled again (those still in the mesh): changed nodes, and every endpoint with an affected service as a backend. */
  readonly endpoints: readonly (VirtualNodeResource | VirtualGatewayResource)[];
}

function affectedBy(index: IndexCopy, last: LastBuild, changes: ResourceChanges): Affected {
  const changed = [...changes.added, ...changes.removed];
  const nodes = namesOf(changed, 'VirtualNode');
  const routers = namesOf(changed, 'Route', namesOf(changed, 'VirtualRouter'));
  for (const routes of index.routesByRouter.values()) {
    const named = routes.some((route) => routeTargets(route).some((target) => nodes.has(route.meshName, target)));
    if (named) routers.add(routes[0]!.meshName, routes[0]!.virtualRouterName);
  }
  const services = namesOf(changed, 'VirtualService');
  for (const service of index.services.values()) {
    const provider = service.spec.provider;
    if ((provider?.virtualNode && nodes.has(service.meshName, provider.virtualNode.virtualNodeName))
      || (provider?.virtualRouter && routers.has(service.meshName, provider.virtualRouter.virtualRouterName))) {
      services.add(service.meshName, service.virtualServiceName);
    }
  }
  const endpoints = new Set<VirtualNodeResource | VirtualGatewayResource>();
  for (const key of nodes.keys()) {
    const node = index.nodes.get(key);
    if (node) endpoints.add(node);
  }
  // A gateway's backends are the services its routes target, so one scan finds every caller.
  for (const endpoint of Object.values(last.model.endpoints)) {
    if (!endpoint.backends.some((backend) => services.has(endpoint.meshName, backend.virtualServiceName))) continue;
    const key = meshKey(endpoint.meshName, endpoint.name);
    // A caller that is itself gone has no endpoint to rebuild.
    const resource = endpoint.kind === 'virtualNode' ? index.nodes.get(key) : index.gateways.get(key);
    if (resource) endpoints.add(resource);
  }
  return { nodes, routers, services, endpoints: [...endpoints] };
}

function routeTargets(route: RouteResource): string[] {
  const body = route.spec.httpRoute ?? route.spec.http2Route ?? route.spec.grpcRoute ?? route.spec.tcpRoute;
  return body ? body.action.weightedTargets.map((target) => target.virtualNode) : [];
}

function endpointIdOf(resource: VirtualNodeResource | VirtualGatewayResource): string {
  return resource.kind === 'VirtualNode'
    ? endpointKey(resource.meshName, 'virtualNode', resource.virtualNodeName)
    : endpointKey(resource.meshName, 'virtualGateway', resource.virtualGatewayName);
}

/** The steps again for what the change affects; errors go to the context. */
function rebuild(context: ModelContext, index: IndexCopy, last: LastBuild, changes: ResourceChanges): { parts: BuildParts; model: MeshModel } {
  const affected = affectedBy(index, last, changes);
  const { parts } = last;

  // Step 2: facts of the affected endpoints (their scope carries this build's context); targets of changed nodes.
  const nodeFacts = new Map(parts.nodeFacts);
  const gatewayFacts = new Map(parts.gatewayFacts);
  const targets = new Map<string, TargetNodeModel>(parts.targets);
  for (const key of affected.nodes.keys()) {
    if (index.nodes.has(key)) continue;
    nodeFacts.delete(key);
    targets.delete(key);
  }
  const freshFacts = new Map<VirtualNodeResource | VirtualGatewayResource, EndpointFacts>();
  for (const resource of affected.endpoints) {
    const facts = endpointFacts(context, index, resource);
    freshFacts.set(resource, facts);
    const key = meshKey(resource.meshName, nameOf(resource));
    if (resource.kind === 'VirtualGateway') {
      gatewayFacts.set(key, keptFacts(facts));
      continue;
    }
    nodeFacts.set(key, keptFacts(facts));
    if (affected.nodes.has(resource.meshName, resource.virtualNodeName)) targets.set(key, targetOf(facts, resource.virtualNodeName));
  }
  // Only an endpoint that assigns itself an identity can claim one twice (default identities are
  // unique by construction), and the last build had no such claim.
  if ([...freshFacts.values()].some((facts) => facts.scope.assignedAt !== undefined)) {
    checkIdentityClaims(context, [...nodeFacts.values(), ...gatewayFacts.values()].map((facts) => facts.claim));
  }

  // Step 3: affected routers and services.
  const routesByRouter = new Map<string, readonly RouteModel[]>(parts.routesByRouter);
  for (const routerKey of affected.routers.keys()) {
    if (index.routesByRouter.has(routerKey)) routesByRouter.set(routerKey, resolveRouterRoutes(context, index, targets, routerKey));
    else routesByRouter.delete(routerKey);
  }
  const services = new Map<string, ResolvedService>(parts.services);
  for (const key of affected.services.keys()) {
    const service = index.services.get(key);
    if (service) services.set(key, resolveService(context, index, routesByRouter, service));
    else services.delete(key);
  }

  // Step 4: affected endpoints, assembled and hashed; the rest are the last build's.
  const rebuilt = new Map<string, EndpointModel>();
  for (const [resource, facts] of freshFacts) {
    rebuilt.set(facts.id, resource.kind === 'VirtualNode'
      ? nodeEndpoint(context, index, resource, facts, services, targets)
      : gatewayEndpoint(context, index, resource, facts, services, targets));
  }
  const removedIds = changes.removed.flatMap((resource) =>
    resource.kind === 'VirtualNode' && !index.nodes.has(meshKey(resource.meshName, resource.virtualNodeName)) ? [endpointIdOf(resource)] : []);
  const endpoints = nextEndpoints(last.model.endpoints, rebuilt, removedIds);

  const warnings = hasCloudMapAttributes(nodeFacts.values())
    ? cloudMapWarnings([...index.nodes].map(([key, resource]) => ({ resource, facts: nodeFacts.get(key)! })))
    : [];
  // The endpoints kept are frozen already: only the new ones, and the records holding them, are frozen here.
  for (const endpoint of rebuilt.values()) deepFreeze(endpoint);
  const model = Object.freeze({ ...last.model, endpoints: Object.freeze(endpoints), warnings: deepFreeze(sortErrors(warnings)) });
  return { parts: { index, nodeFacts, gatewayFacts, targets, routesByRouter, services }, model };
}

/** The last build's endpoints with the rebuilt ones in their place, in id order. */
function nextEndpoints(before: Readonly<Record<string, EndpointModel>>, rebuilt: ReadonlyMap<string, EndpointModel>, removedIds: readonly string[]): Record<string, EndpointModel> {
  const sameIds = removedIds.length === 0 && [...rebuilt.keys()].every((id) => id in before);
  if (!sameIds) {
    const all = new Map(Object.entries(before));
    for (const id of removedIds) all.delete(id);
    for (const [id, endpoint] of rebuilt) all.set(id, endpoint);
    return endpointsById(all.values());
  }
  const endpoints: Record<string, EndpointModel> = Object.assign({}, before);
  for (const [id, endpoint] of rebuilt) endpoints[id] = endpoint;
  return endpoints;
}

/** Throws when the incremental model is not exactly what a full build of the same resources gives. */
function verifyAgainstFullBuild(resources: readonly Resource[], trustDomain: string, incremental: MeshModel): void {
  const full = buildModelWithParts(resources, { trustDomain }).result;
  if (!full.ok) throw new Error(`incremental model build accepted what a full build refuses (${full.errors.length} errors)`);
  if (JSON.stringify(full.model) === JSON.stringify(incremental)) return;
  const ids = new Set([...Object.keys(full.model.endpoints), ...Object.keys(incremental.endpoints)]);
  const differing = [...ids].filter((id) => JSON.stringify(full.model.endpoints[id]) !== JSON.stringify(incremental.endpoints[id]));
  throw new Error(`incremental model build differs from a full build (${VERIFY_INCREMENTAL_BUILD_ENV}=1): ${differing.length > 0 ? `endpoints ${differing.slice(0, 5).join(', ')}` : 'outside the endpoints'}`);
}
