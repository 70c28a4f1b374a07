// Building the validated mesh model from loaded resources, in ordered steps:
//   1. index resources (duplicates, undeclared meshes)
//   2. endpoint facts (listeners, TLS, service discovery, meshd settings, port clashes)
//   3. resolve services through routers and routes to virtual nodes
//   4. per endpoint: backends with their effective client policies, gateway routes
//   5. hash and freeze
// Every step appends to one error list; a model is returned only when it is empty. Resources that
// failed their schema are then checked as far as they can be (see partialErrors), so one run
// reports every error of every stage.
import { sortErrors, type SpecError } from '../spec/errors';
import type { DeclaredResource } from '../spec/parse';
import { labelOf, type GatewayRouteResource, type Resource, type VirtualGatewayResource, type VirtualNodeResource } from '../spec/resource-schema';
import { isInvalid, newContext, report, type ModelContext } from './context';
import { endpointFacts, type EndpointFacts } from './endpoint-facts';
import { contentHash, deepFreeze } from './hash';
import { DEFAULT_TRUST_DOMAIN, isValidTrustDomain } from '../identity/endpoint-id';
import { indexResources, meshKey, type ResourceIndex } from './index-resources';
import { byPriorityThenName, resolveServices, type ResolvedService } from './resolve';
import { checkIdentityClaims, type IdentityClaim } from './spiffe-identity';
import { clientPolicyFrom, sdsSecretsOf } from './tls';
import { cloudMapWarnings } from './warnings';
import type { BackendModel, ClientPolicyModel, EndpointModel, GatewayRouteModel, MeshModel, RouteModel, SecretModel, TargetNodeModel } from './types';

/** Options of `buildModel`. */
export interface BuildOptions {
  /** SPIFFE trust domain of meshd's CA (default `meshd.local`). */
  readonly trustDomain?: string;
  /** Resources that were named but failed validation: references to them are not reported. */
  readonly invalid?: readonly DeclaredResource[];
}

/** The model (with its warnings), or every error that prevents it and the warnings found on the way. */
export type BuildResult =
  | { readonly ok: true; readonly model: MeshModel }
  | { readonly ok: false; readonly errors: readonly SpecError[]; readonly warnings: readonly SpecError[] };

export function targetOf(facts: EndpointFacts, name: string): TargetNodeModel {
  return {
    id: facts.id,
    name,
    spiffeId: facts.spiffeId,
    ...(facts.serviceDiscovery ? { serviceDiscovery: facts.serviceDiscovery } : {}),
    listeners: facts.listeners,
    meshd: facts.meshd,
  };
}

function backendOf(
  service: ResolvedService,
  virtualServiceName: string,
  targets: ReadonlyMap<string, TargetNodeModel>,
  own: ClientPolicyModel | undefined,
  defaults: ClientPolicyModel | undefined,
): BackendModel {
  const clientPolicy = own ?? defaults;
  return {
    virtualServiceName,
    provider: service.provider,
    targets: service.nodeKeys.flatMap((key) => targets.get(key) ?? []),
    ...(clientPolicy ? { clientPolicy } : {}),
    clientPolicySource: own ? 'backend' : defaults ? 'defaults' : 'none',
  };
}

function nodeBackends(
  context: ModelContext,
  resource: VirtualNodeResource,
  facts: EndpointFacts,
  services: ReadonlyMap<string, ResolvedService>,
  targets: ReadonlyMap<string, TargetNodeModel>,
  defaults: ClientPolicyModel | undefined,
): BackendModel[] {
  const firstIndex = new Map<string, number>();
  const backends: BackendModel[] = [];
  (resource.spec.backends ?? []).forEach((backend, i) => {
    const { virtualServiceName, clientPolicy } = backend.virtualService;
    const path = `spec.backends[${i}].virtualService`;
    const own = clientPolicyFrom(facts.scope, clientPolicy, `${path}.clientPolicy`);
    const first = firstIndex.get(virtualServiceName);
    if (first !== undefined) {
      report(context, resource, `${path}.virtualServiceName`, `virtual service "${virtualServiceName}" is already a backend (spec.backends[${first}])`);
      return;
    }
    firstIndex.set(virtualServiceName, i);
    const service = services.get(meshKey(resource.meshName, virtualServiceName));
    if (!service) {
      if (!isInvalid(context, 'VirtualService', resource.meshName, virtualServiceName)) {
        report(context, resource, `${path}.virtualServiceName`, `virtual service "${virtualServiceName}" does not exist in mesh "${resource.meshName}"`);
      }
      return;
    }
    backends.push(backendOf(service, virtualServiceName, targets, own, defaults));
  });
  return backends;
}

function gatewayRoutesAndBackends(
  context: ModelContext,
  index: ResourceIndex,
  gateway: VirtualGatewayResource,
  services: ReadonlyMap<string, ResolvedService>,
  targets: ReadonlyMap<string, TargetNodeModel>,
  defaults: ClientPolicyModel | undefined,
): { routes: GatewayRouteModel[]; backends: BackendModel[] } {
  const routes: GatewayRouteModel[] = [];
  const backends = new Map<string, BackendModel>();
  for (const route of index.gatewayRoutesByGateway.get(meshKey(gateway.meshName, gateway.virtualGatewayName)) ?? []) {
    const member = route.spec.httpRoute ? 'httpRoute' : route.spec.http2Route ? 'http2Route' : 'grpcRoute';
    const body = route.spec[member]!;
    const virtualServiceName = body.action.target.virtualService.virtualServiceName;
    const service = checkGatewayRouteTarget(context, services, route);
    if (service && !backends.has(virtualServiceName)) {
      backends.set(virtualServiceName, backendOf(service, virtualServiceName, targets, undefined, defaults));
    }
    const base = { name: route.gatewayRouteName, ...(route.spec.priority !== undefined ? { priority: route.spec.priority } : {}), virtualServiceName };
    routes.push(member === 'grpcRoute'
      ? { ...base, protocol: 'grpc', spec: route.spec.grpcRoute! }
      : { ...base, protocol: member === 'httpRoute' ? 'http' : 'http2', spec: body as NonNullable<typeof route.spec.httpRoute> });
  }
  return { routes: routes.sort(byPriorityThenName), backends: [...backends.values()] };
}

/** The virtual service a gateway route targets, reported when it does not exist. */
function checkGatewayRouteTarget(
  context: ModelContext,
  services: ReadonlyMap<string, ResolvedService>,
  route: GatewayRouteResource,
): ResolvedService | undefined {
  const member = route.spec.httpRoute ? 'httpRoute' : route.spec.http2Route ? 'http2Route' : 'grpcRoute';
  const virtualServiceName = route.spec[member]!.action.target.virtualService.virtualServiceName;
  const service = services.get(meshKey(route.meshName, virtualServiceName));
  if (!service && !isInvalid(context, 'VirtualService', route.meshName, virtualServiceName)) {
    report(context, route, `spec.${member}.action.target.virtualService.virtualServiceName`, `virtual service "${virtualServiceName}" does not exist in mesh "${route.meshName}"`);
  }
  return service;
}

/** Gateway routes of a gateway that is missing, or invalid (their own targets are still checked). */
function reportOrphanGatewayRoutes(context: ModelContext, index: ResourceIndex, services: ReadonlyMap<string, ResolvedService>): void {
  for (const [key, routes] of index.gatewayRoutesByGateway) {
    if (index.gateways.has(key)) continue;
    for (const route of routes) {
      if (!isInvalid(context, 'VirtualGateway', route.meshName, route.virtualGatewayName)) {
        report(context, route, 'virtualGatewayName', `virtual gateway "${route.virtualGatewayName}" does not exist in mesh "${route.meshName}"`);
      }
      checkGatewayRouteTarget(context, services, route);
    }
  }
}

export function secretsOf(context: ModelContext, index: ResourceIndex): Record<string, SecretModel> {
  const secrets: Record<string, SecretModel> = {};
  const reserved = ['default', 'ROOTCA'];
  for (const [key, secret] of index.secrets) {
    if (reserved.includes(secret.secretName) || secret.secretName.startsWith('spiffe://')) {
      report(context, secret, 'secretName', `"${secret.secretName}" is reserved: meshd serves default, ROOTCA and SPIFFE IDs itself`);
    }
    const file = secret.spec.file;
    secrets[key] = {
      meshName: secret.meshName,
      secretName: secret.secretName,
      provision: file.trustedCa !== undefined
        ? { kind: 'file-trust', trustedCa: file.trustedCa }
        : { kind: 'file-certificate', certificateChain: file.certificateChain!, privateKey: file.privateKey! },
      source: secret.source,
    };
  }
  return secrets;
}

/** What the steps made on the way to the model: an incremental build (build-memo.ts) redoes only what a change touches. */
export interface BuildParts {
  readonly index: ResourceIndex;
  readonly nodeFacts: ReadonlyMap<string, KeptFacts>;
  readonly gatewayFacts: ReadonlyMap<string, KeptFacts>;
  readonly targets: ReadonlyMap<string, TargetNodeModel>;
  readonly routesByRouter: ReadonlyMap<string, readonly RouteModel[]>;
  readonly services: ReadonlyMap<string, ResolvedService>;
}

/**
 * What a later build needs of an endpoint's facts: its scope is not kept, since it holds the
 * build's context and index (an incremental build would otherwise keep every earlier index alive
 * through the endpoints it did not touch).
 */
export interface KeptFacts extends Omit<EndpointFacts, 'scope'> {
  readonly claim: IdentityClaim;
}

export function keptFacts({ scope, ...facts }: EndpointFacts): KeptFacts {
  const claim: IdentityClaim = { resource: scope.resource, spiffeId: scope.spiffeId, ...(scope.assignedAt !== undefined ? { assignedAt: scope.assignedAt } : {}) };
  return { ...facts, claim };
}

/** What the steps found: errors, warnings, the model as far as it could be assembled, and the parts. */
interface StepsResult {
  readonly errors: readonly SpecError[];
  readonly warnings: readonly SpecError[];
  readonly model: Omit<MeshModel, 'warnings'>;
  readonly parts: BuildParts;
}

// A target node is among the inputs of every endpoint that calls it; in their hashes its own
// digest stands for it, computed once per target (hashing the full text of every caller's
// targets was most of a build's time). A target is never changed once built (the model freezes
// it), and a changed node gets a new target, so a digest kept by object stays right.
const targetDigests = new WeakMap<TargetNodeModel, string>();

function digestOf(target: TargetNodeModel): string {
  let digest = targetDigests.get(target);
  if (digest === undefined) {
    digest = contentHash(target);
    targetDigests.set(target, digest);
  }
  return digest;
}

function byVirtualServiceName(a: BackendModel, b: BackendModel): number {
  return a.virtualServiceName < b.virtualServiceName ? -1 : a.virtualServiceName > b.virtualServiceName ? 1 : 0;
}

/** Step 4's last part: an endpoint's model from what the steps found for it, hashed. */
function assembleEndpoint(
  index: ResourceIndex,
  trustDomain: string,
  resource: VirtualNodeResource | VirtualGatewayResource,
  name: string,
  facts: EndpointFacts,
  defaults: ClientPolicyModel | undefined,
  backends: BackendModel[],
  gatewayRoutes: GatewayRouteModel[],
): EndpointModel {
  const mesh = index.meshes.get(resource.meshName);
  const accessLogPath = resource.spec.logging?.accessLog?.file.path;
  const content = {
    id: facts.id,
    kind: facts.kind,
    meshName: resource.meshName,
    name,
    spiffeId: facts.spiffeId,
    trustDomain,
    egressFilter: mesh?.spec?.egressFilter?.type ?? 'DROP_ALL',
    listeners: facts.listeners,
    ...(facts.serviceDiscovery ? { serviceDiscovery: facts.serviceDiscovery } : {}),
    backends: backends.sort(byVirtualServiceName),
    ...(defaults ? { backendDefaults: defaults } : {}),
    gatewayRoutes,
    ...(accessLogPath ? { accessLogPath } : {}),
    meshd: facts.meshd,
    sdsSecrets: sdsSecretsOf(facts.scope),
  } satisfies Omit<EndpointModel, 'source' | 'hash'>;
  const hashed = { ...content, backends: content.backends.map((backend) => ({ ...backend, targets: backend.targets.map(digestOf) })) };
  return { ...content, source: resource.source, hash: contentHash(hashed) };
}

/** Step 4 for a virtual node: its backends with their effective client policies; errors go to the context. */
export function nodeEndpoint(
  context: ModelContext,
  index: ResourceIndex,
  node: VirtualNodeResource,
  facts: EndpointFacts,
  services: ReadonlyMap<string, ResolvedService>,
  targets: ReadonlyMap<string, TargetNodeModel>,
): EndpointModel {
  const defaults = clientPolicyFrom(facts.scope, node.spec.backendDefaults?.clientPolicy, 'spec.backendDefaults.clientPolicy');
  const backends = nodeBackends(context, node, facts, services, targets, defaults);
  return assembleEndpoint(index, context.trustDomain, node, node.virtualNodeName, facts, defaults, backends, []);
}

/** Step 4 for a virtual gateway: its routes and the services they target; errors go to the context. */
export function gatewayEndpoint(
  context: ModelContext,
  index: ResourceIndex,
  gateway: VirtualGatewayResource,
  facts: EndpointFacts,
  services: ReadonlyMap<string, ResolvedService>,
  targets: ReadonlyMap<string, TargetNodeModel>,
): EndpointModel {
  const defaults = clientPolicyFrom(facts.scope, gateway.spec.backendDefaults?.clientPolicy, 'spec.backendDefaults.clientPolicy');
  const { routes, backends } = gatewayRoutesAndBackends(context, index, gateway, services, targets, defaults);
  return assembleEndpoint(index, context.trustDomain, gateway, gateway.virtualGatewayName, facts, defaults, backends, routes);
}

/** Endpoints by id, in id order (the model's order, whatever order they were built in). */
export function endpointsById(endpoints: Iterable<EndpointModel>): Record<string, EndpointModel> {
  return Object.fromEntries([...endpoints].sort((a, b) => (a.id < b.id ? -1 : 1)).map((endpoint) => [endpoint.id, endpoint]));
}

/** Steps 1-4 over `resources`. */
function runSteps(resources: readonly Resource[], trustDomain: string, invalid: readonly DeclaredResource[]): StepsResult {
  const context = newContext(trustDomain, invalid);

  const index = indexResources(context, resources);
  const secrets = secretsOf(context, index);

  const nodeFacts = new Map<string, EndpointFacts>();
  const targets = new Map<string, TargetNodeModel>();
  for (const [key, node] of index.nodes) {
    const facts = endpointFacts(context, index, node);
    nodeFacts.set(key, facts);
    targets.set(key, targetOf(facts, node.virtualNodeName));
  }
  const gatewayFacts = new Map<string, EndpointFacts>();
  for (const [key, gateway] of index.gateways) gatewayFacts.set(key, endpointFacts(context, index, gateway));
  checkIdentityClaims(context, [...nodeFacts.values(), ...gatewayFacts.values()].map((facts) => facts.scope));

  const { routesByRouter, services } = resolveServices(context, index, targets);
  reportOrphanGatewayRoutes(context, index, services);

  const endpoints: EndpointModel[] = [];
  for (const [key, node] of index.nodes) endpoints.push(nodeEndpoint(context, index, node, nodeFacts.get(key)!, services, targets));
  for (const [key, gateway] of index.gateways) endpoints.push(gatewayEndpoint(context, index, gateway, gatewayFacts.get(key)!, services, targets));

  const warnings = cloudMapWarnings([...index.nodes].map(([key, resource]) => ({ resource, facts: nodeFacts.get(key)! })));
  const model = {
    trustDomain,
    meshes: [...index.meshes.keys()].sort(),
    endpoints: endpointsById(endpoints),
    secrets,
  };
  const kept = (facts: ReadonlyMap<string, EndpointFacts>): Map<string, KeptFacts> => new Map([...facts].map(([key, each]) => [key, keptFacts(each)]));
  const parts = { index, nodeFacts: kept(nodeFacts), gatewayFacts: kept(gatewayFacts), targets, routesByRouter, services };
  return { errors: context.errors, warnings, model, parts };
}

function bySource(a: Resource, b: Resource): number {
  if (a.source.file !== b.source.file) return a.source.file < b.source.file ? -1 : 1;
  return a.source.index - b.source.index;
}

/**
 * Model errors of resources that failed their schema, from what of them could be salvaged: the
 * steps run again with those parts added, and only errors about them are kept. Errors about the
 * other resources come from the first run, where the invalid ones are absent and references to
 * them are not reported; so a broken resource cannot cause errors elsewhere.
 */
function partialErrors(resources: readonly Resource[], trustDomain: string, invalid: readonly DeclaredResource[]): SpecError[] {
  const partials = invalid.flatMap((declared) => (declared.partial ? [declared.partial] : []));
  if (partials.length === 0) return [];
  const about = new Set(partials.map((partial) => `${partial.source.file}\u0000${labelOf(partial)}`));
  const { errors } = runSteps([...resources, ...partials].sort(bySource), trustDomain, invalid);
  return errors.filter((error) => about.has(`${error.file}\u0000${error.resource ?? ''}`));
}

/** The model built from resources with the parts it was made of (those only when it is valid). */
export interface BuiltWithParts {
  readonly result: BuildResult;
  readonly parts?: BuildParts;
}

/** `buildModel`, keeping the parts of a valid model for an incremental build to start from. */
export function buildModelWithParts(resources: readonly Resource[], options: BuildOptions = {}): BuiltWithParts {
  const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  if (!isValidTrustDomain(trustDomain)) throw new TypeError(`invalid SPIFFE trust domain "${trustDomain}"`);
  const invalid = options.invalid ?? [];
  const { errors, warnings, model, parts } = runSteps(resources, trustDomain, invalid);
  const allErrors = [...errors, ...partialErrors(resources, trustDomain, invalid)];
  if (allErrors.length > 0) return { result: { ok: false, errors: sortErrors(allErrors), warnings: sortErrors(warnings) } };
  return { result: { ok: true, model: deepFreeze({ ...model, warnings: sortErrors(warnings) }) }, parts };
}

/** Build the validated model from resources (pure: no I/O). */
export function buildModel(resources: readonly Resource[], options: BuildOptions = {}): BuildResult {
  return buildModelWithParts(resources, options).result;
}
