// The document behind /ui, /view and `meshd status --edges`: the model's call paths with their TLS
// posture (src/posture), joined with what is live: the proxies connected per endpoint and whether
// they run the configuration meshd serves, the certificates in use (public facts only: serial,
// SANs, validity, issuing CA), the CA rollover's progress, and the last refused change.
import type { MeshModel } from '../model/types';
import { meshGraphs, type GraphNode, type MeshEdge } from '../posture';
import type { MeshStatus, ProxyStatus } from './types';

/** How many proxies of an endpoint are connected, and how many run what meshd serves now. */
export interface EndpointSync {
  /** xDS streams (one per Envoy or proxyless client). */
  readonly proxies: number;
  /** Of those, the ones with every type ACKed at the version sent, and every SDS stream of the endpoint too. */
  readonly inSync: number;
}

export interface EdgeView extends MeshEdge {
  readonly callerSync: EndpointSync;
  readonly providerSync: EndpointSync;
}

/** An endpoint's leaf, as public facts. */
export interface CertificateView {
  readonly serial: string;
  readonly sans: readonly string[];
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
  /** The CA generation that issued it (`ca-N`). */
  readonly caId: string;
}

export interface EndpointView {
  /** Endpoint id, `mesh/<mesh>/<kind>/<name>`. */
  readonly id: string;
  readonly mesh: string;
  readonly kind: 'virtualNode' | 'virtualGateway';
  readonly name: string;
  /** How its proxies are served. */
  readonly form: 'envoy' | 'grpc';
  readonly proxies: readonly ProxyStatus[];
  readonly sync: EndpointSync;
  readonly certificate?: CertificateView;
}

export interface RolloverView {
  readonly inProgress: boolean;
  readonly currentCaId: string;
  readonly previousCaId?: string;
  /** Leaves this meshd tracks, and how many of them the current CA issued. */
  readonly leaves: number;
  readonly moved: number;
}

export interface MeshViewGraph {
  readonly mesh: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly EdgeView[];
}

/** What /view returns and /view/events pushes. */
export interface MeshView {
  /** ISO 8601. */
  readonly generatedAt: string;
  /** The revision being served; null before a valid mesh was loaded. */
  readonly revision: string | null;
  readonly appliedAt?: string;
  /** The last refused change, with every error; the revision above is still served. */
  readonly refused?: { readonly at: string; readonly errors: readonly string[] };
  readonly warnings: readonly string[];
  readonly meshes: readonly MeshViewGraph[];
  readonly endpoints: readonly EndpointView[];
  readonly trustBundle: { readonly version: string; readonly caSerials: readonly string[] };
  readonly rollover: RolloverView;
}

/** Where the view's facts come from (runtime/operations.ts implements it for a running meshd). */
export interface MeshViewSources {
  model(): MeshModel | undefined;
  mesh(): MeshStatus;
  proxies(): ProxyStatus[];
  /** The current leaf of an endpoint (by endpoint id), if one was issued. */
  certificate(endpointId: string): CertificateView | undefined;
  trustBundle(): { version: string; caSerials: string[] };
  rollover(): RolloverView;
}

const SDS_SERVICE = 'SDS';

function allSynced(proxy: ProxyStatus): boolean {
  return proxy.types.length > 0 && proxy.types.every((type) => type.state === 'synced');
}

/** Sync of an endpoint's proxies: an SDS stream cannot be told apart by replica, so one lagging fails all. */
export function endpointSync(proxies: readonly ProxyStatus[]): EndpointSync {
  const xds = proxies.filter((proxy) => proxy.service !== SDS_SERVICE);
  const sdsSynced = proxies.filter((proxy) => proxy.service === SDS_SERVICE).every(allSynced);
  return { proxies: xds.length, inSync: sdsSynced ? xds.filter(allSynced).length : 0 };
}

/** The whole view, now. */
export function buildMeshView(sources: MeshViewSources, now: Date = new Date()): MeshView {
  const model = sources.model();
  const status = sources.mesh();
  const byEndpoint = new Map<string, ProxyStatus[]>();
  for (const proxy of sources.proxies()) byEndpoint.set(proxy.endpoint, [...(byEndpoint.get(proxy.endpoint) ?? []), proxy]);
  const syncOf = (endpoint: string): EndpointSync => endpointSync(byEndpoint.get(endpoint) ?? []);
  const graphs = model ? meshGraphs(model) : [];
  const endpoints: EndpointView[] = Object.values(model?.endpoints ?? {})
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((endpoint) => {
      const certificate = sources.certificate(endpoint.id);
      return {
        id: endpoint.id,
        mesh: endpoint.meshName,
        kind: endpoint.kind,
        name: endpoint.name,
        form: endpoint.kind === 'virtualNode' && endpoint.meshd.proxyless ? 'grpc' : 'envoy',
        proxies: byEndpoint.get(endpoint.id) ?? [],
        sync: syncOf(endpoint.id),
        ...(certificate ? { certificate } : {}),
      };
    });
  return {
    generatedAt: now.toISOString(),
    revision: status.revision,
    ...(status.appliedAt ? { appliedAt: status.appliedAt } : {}),
    ...(status.lastRefused ? { refused: { at: status.lastRefused.at, errors: status.lastRefused.errors } } : {}),
    warnings: status.warnings ?? [],
    meshes: graphs.map((graph) => ({
      mesh: graph.mesh,
      nodes: graph.nodes,
      edges: graph.edges.map((edge) => ({ ...edge, callerSync: syncOf(edge.caller), providerSync: syncOf(edge.provider) })),
    })),
    endpoints,
    trustBundle: sources.trustBundle(),
    rollover: sources.rollover(),
  };
}
