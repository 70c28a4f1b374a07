// Per-endpoint translation state: the options, the SDS config source carrying the node's
// credential, and the resources collected so far (by name, deduplicated).
import { canonicalJson } from '../model/hash';
import type { EndpointModel } from '../model/types';
import { sdsConfigSource } from '../envoy/bootstrap';
import type { NodeCredential, ProtoObject } from '../envoy/types';
import { shareEncoding } from '../xds/encode';

/** Options of the translation. */
export interface TranslateOptions {
  /** The credential a node presents to meshd; it goes into every SDS config source. Absent: no metadata. */
  readonly credentialFor: (endpointId: string) => NodeCredential | undefined;
}

/** Resources of one type, by name. A second, different resource with a taken name gets a suffix. */
export class ResourceCollector {
  private readonly byName = new Map<string, { message: ProtoObject; build: (name: string) => ProtoObject; key?: string }>();

  /**
   * Adds `build(name)` under `name`, or reuses an identical one already there. When `name` holds
   * different content (two backends reaching one node with different client policies), the new
   * resource is added as `<name>_<n>`. Returns the name the resource has. Contents are compared
   * only when a name is taken (rare), so the common case builds each resource once.
   */
  add(name: string, build: (name: string) => ProtoObject): string {
    let key: string | undefined;
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? name : `${name}_${n}`;
      const existing = this.byName.get(candidate);
      if (!existing) {
        this.byName.set(candidate, { message: build(candidate), build });
        return candidate;
      }
      // Compare with the name factored out so only the content decides.
      existing.key ??= canonicalJson(existing.build(''));
      key ??= canonicalJson(build(''));
      if (existing.key === key) return candidate;
    }
  }

  /** Every resource, sorted by name. */
  resources(): { name: string; message: ProtoObject }[] {
    return [...this.byName.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, entry]) => ({ name, message: entry.message }));
  }
}

/** What translating one endpoint accumulates. */
export interface EndpointContext {
  readonly endpoint: EndpointModel;
  /** SDS ConfigSource for every SdsSecretConfig of this endpoint. */
  readonly sdsConfig: ProtoObject;
  readonly listeners: ResourceCollector;
  readonly routes: ResourceCollector;
  readonly clusters: ResourceCollector;
  readonly loadAssignments: ResourceCollector;
}

/**
 * The SDS ConfigSource for a node: bootstrap's `sdsConfigSource` (meshd's SDS cluster, the
 * credential in initial metadata). Without a credential the same source is used without metadata
 * (meshd then refuses the stream unless it does not require credentials).
 */
export function sdsConfigFor(credential: NodeCredential | undefined): ProtoObject {
  if (credential) return sdsConfigSource(credential);
  // A placeholder credential only passes bootstrap's checks; its metadata is removed below.
  const source = sdsConfigSource({ header: 'x-meshd-unused', value: 'unused' });
  const api = source.apiConfigSource as ProtoObject;
  const services = (api.grpcServices as ProtoObject[]).map(({ initialMetadata: _unused, ...service }) => service);
  return { ...source, apiConfigSource: { ...api, grpcServices: services } };
}

/** A fresh context for `endpoint`. */
export function newEndpointContext(endpoint: EndpointModel, options: TranslateOptions): EndpointContext {
  return {
    endpoint,
    // In every TLS context of the node (two per mTLS cluster): encoded once, copied after.
    sdsConfig: shareEncoding(sdsConfigFor(options.credentialFor(endpoint.id))),
    listeners: new ResourceCollector(),
    routes: new ResourceCollector(),
    clusters: new ResourceCollector(),
    loadAssignments: new ResourceCollector(),
  };
}
