// Translation of the validated mesh model into Envoy v3 resources, per mesh endpoint. Pure: no
// I/O, no gRPC. `translateMesh` keeps the Snapshot of every endpoint whose translation input
// (its model hash and its credential) did not change, so a re-publish only touches what changed.
import { createHash } from 'node:crypto';
import { Snapshot, type ResourceInput } from '../cache/snapshot';
import type { EndpointModel, MeshModel, SdsSecretUse } from '../model/types';
import { sdsSecretNamesIn } from '../envoy/tls';
import { TypeUrl } from '../xds/type-urls';
import { newEndpointContext, type TranslateOptions } from './context';
import { formOf, translateProxylessNode, type EndpointForm } from './proxyless';
import { meshCaTrust } from './upstream-tls';
import { translateVirtualGateway } from './virtual-gateway';
import { translateVirtualNode } from './virtual-node';

export type { TranslateOptions } from './context';

/** An endpoint's resources by type URL, each list sorted by name. */
export type EndpointResources = Record<TypeUrl, ResourceInput[]>;

function endpointOf(model: MeshModel, endpointId: string): EndpointModel {
  const endpoint = model.endpoints[endpointId];
  if (!endpoint) throw new Error(`translate: no mesh endpoint "${endpointId}" in the model`);
  return endpoint;
}

/**
 * Every Listener, RouteConfiguration, Cluster and ClusterLoadAssignment of one endpoint's proxy,
 * in the endpoint's form (`formOf`): Envoy's, or gRPC's proxyless form (proxyless.ts).
 * Secrets are not here: meshd's SDS serves them (see `sdsSecretsNeeded`).
 */
export function translateEndpoint(model: MeshModel, endpointId: string, options: TranslateOptions): EndpointResources {
  const endpoint = endpointOf(model, endpointId);
  const context = newEndpointContext(endpoint, options);
  if (formOf(endpoint) === 'grpc') translateProxylessNode(context);
  else if (endpoint.kind === 'virtualNode') translateVirtualNode(context);
  else translateVirtualGateway(context);
  return {
    [TypeUrl.Listener]: context.listeners.resources(),
    [TypeUrl.RouteConfiguration]: context.routes.resources(),
    [TypeUrl.Cluster]: context.clusters.resources(),
    [TypeUrl.ClusterLoadAssignment]: context.loadAssignments.resources(),
    [TypeUrl.Secret]: [],
  };
}

/** The Snapshot an endpoint's proxy is served. */
export function buildSnapshot(model: MeshModel, endpointId: string, options: TranslateOptions): Snapshot {
  const { [TypeUrl.Secret]: _secrets, ...resources } = translateEndpoint(model, endpointId, options);
  return Snapshot.fromResources(resources);
}

/** Every SDS secret name the resources refer to, sorted. */
export function sdsSecretNamesOf(resources: Readonly<Record<string, readonly ResourceInput[]>>): string[] {
  const names = new Set<string>();
  for (const list of Object.values(resources)) for (const resource of list) sdsSecretNamesIn(resource.message, names);
  return [...names].sort();
}

/**
 * The SDS secrets an endpoint's proxy will ask for: the model's `sdsSecrets` plus meshd's CA
 * bundle when a backend without a matching client policy validates a meshd-issued server
 * certificate against it (003 "Without client policies"): nothing in the endpoint's own spec
 * names the bundle then, so the model does not list it.
 */
export function sdsSecretsNeeded(model: MeshModel, endpointId: string, options: TranslateOptions): SdsSecretUse[] {
  const endpoint = endpointOf(model, endpointId);
  const byName = new Map(endpoint.sdsSecrets.map((use) => [use.secretName, use]));
  const bundle = meshCaTrust(endpoint.trustDomain);
  if (bundle.kind === 'sds' && !byName.has(bundle.secretName)
    && sdsSecretNamesOf(translateEndpoint(model, endpointId, options)).includes(bundle.secretName)) {
    byName.set(bundle.secretName, { secretName: bundle.secretName, provision: bundle.provision });
  }
  return [...byName.values()].sort((a, b) => (a.secretName < b.secretName ? -1 : a.secretName > b.secretName ? 1 : 0));
}

/** The snapshots of a whole mesh, and what it took to build them. */
export interface MeshTranslation {
  /** By endpoint id. */
  readonly snapshots: ReadonlyMap<string, Snapshot>;
  /** The input key each snapshot was built from (endpoint hash + credential fingerprint). */
  readonly inputKeys: ReadonlyMap<string, string>;
  /** Endpoint ids whose snapshot was translated anew, sorted. */
  readonly rebuilt: readonly string[];
  /** Endpoint ids whose previous Snapshot object was kept, sorted. */
  readonly reused: readonly string[];
  /** By endpoint id: the form its snapshot is in (for status: which nodes get gRPC's form). */
  readonly forms: ReadonlyMap<string, EndpointForm>;
}

function inputKey(endpoint: EndpointModel, options: TranslateOptions): string {
  const credential = options.credentialFor(endpoint.id);
  // The credential changes the SDS config sources; only a fingerprint of it is kept.
  const fingerprint = credential
    ? createHash('sha256').update(`${credential.header}\u0000${credential.value}`).digest('hex').slice(0, 16)
    : 'none';
  return `${endpoint.hash}:${fingerprint}`;
}

/**
 * Snapshots for every endpoint of `model`. With `previous`, an endpoint whose input key is
 * unchanged keeps its previous Snapshot object (so caches and streams see no change).
 */
export function translateMesh(model: MeshModel, options: TranslateOptions, previous?: MeshTranslation): MeshTranslation {
  const snapshots = new Map<string, Snapshot>();
  const inputKeys = new Map<string, string>();
  const rebuilt: string[] = [];
  const reused: string[] = [];
  const forms = new Map<string, EndpointForm>();
  for (const id of Object.keys(model.endpoints).sort()) {
    forms.set(id, formOf(model.endpoints[id]!));
    const key = inputKey(model.endpoints[id]!, options);
    const kept = previous?.inputKeys.get(id) === key ? previous.snapshots.get(id) : undefined;
    if (kept) {
      snapshots.set(id, kept);
      reused.push(id);
    } else {
      snapshots.set(id, buildSnapshot(model, id, options));
      rebuilt.push(id);
    }
    inputKeys.set(id, key);
  }
  return { snapshots, inputKeys, rebuilt, reused, forms };
}
