// The mesh as a graph, a pure function of the model: per mesh, its virtual gateways, virtual nodes,
// the virtual services they call and the routers behind them as nodes, and every caller -> service
// -> provider path as an edge with its effective TLS posture (posture.ts). Paths follow what
// translation builds (translate/backends.ts): a node provider is reached on each of its listeners;
// a router provider on the listener each weighted target names (its `port`, else its first), for
// targets with weight above zero.
import type { BackendModel, EndpointModel, ListenerModel, MeshModel, Protocol, TargetNodeModel } from '../model/types';
import { postureOf, type Posture, type PostureFacts } from './posture';

export type GraphNodeKind = 'virtualGateway' | 'virtualNode' | 'virtualService' | 'virtualRouter';

/** A box on the map. Endpoints use their endpoint id (`mesh/<mesh>/virtualNode/<name>`) as id. */
export interface GraphNode {
  readonly id: string;
  readonly kind: GraphNodeKind;
  readonly name: string;
  /** For virtual nodes and gateways: the endpoint id its proxies connect as. */
  readonly endpoint?: string;
}

/** One caller -> service -> provider path and its posture. */
export interface MeshEdge {
  /** `<caller> -> <service> -> <provider>:<port>`: unique in the mesh. */
  readonly id: string;
  /** Endpoint id of the calling virtual node or gateway. */
  readonly caller: string;
  readonly service: string;
  /** The router between service and provider, when the service's provider is one. */
  readonly router?: string;
  /** Route names of that router that lead here. */
  readonly routes: readonly string[];
  /** Endpoint id of the virtual node that receives the calls. */
  readonly provider: string;
  /** The provider listener's port and protocol. */
  readonly port: number;
  readonly protocol: Protocol;
  readonly posture: Posture;
  readonly facts: PostureFacts;
  readonly reason: string;
  /** Graph node ids along the path, caller first (what the map draws). */
  readonly path: readonly string[];
}

export interface MeshGraph {
  readonly mesh: string;
  /** Sorted by kind then name. */
  readonly nodes: readonly GraphNode[];
  /** Sorted by caller, service, provider, port. */
  readonly edges: readonly MeshEdge[];
}

const KIND_ORDER: Readonly<Record<GraphNodeKind, number>> = { virtualGateway: 0, virtualNode: 1, virtualService: 2, virtualRouter: 3 };

/** Graph node id of a virtual service or router (endpoints use their endpoint id). */
export function resourceNodeId(mesh: string, kind: 'virtualService' | 'virtualRouter', name: string): string {
  return `mesh/${mesh}/${kind}/${name}`;
}

interface Hop { target: TargetNodeModel; listener: ListenerModel; routes: string[] }

/** The provider listeners a backend reaches, each once, with the routes leading there. */
function hopsOf(backend: BackendModel): Hop[] {
  const { provider } = backend;
  if (provider.kind === 'none') return [];
  if (provider.kind === 'virtualNode') {
    const target = backend.targets[0];
    return target ? [...target.listeners].sort((a, b) => a.port - b.port).map((listener) => ({ target, listener, routes: [] })) : [];
  }
  const hops = new Map<string, Hop>();
  for (const route of provider.routes) {
    for (const weighted of route.weightedTargets) {
      if (weighted.weight <= 0) continue;
      const target = backend.targets.find((candidate) => candidate.id === weighted.nodeId);
      const listener = target && (weighted.port !== undefined ? target.listeners.find((l) => l.port === weighted.port) : target.listeners[0]);
      if (!target || !listener) continue;
      const key = `${target.id}:${listener.port}`;
      const hop = hops.get(key) ?? { target, listener, routes: [] };
      if (!hop.routes.includes(route.name)) hop.routes.push(route.name);
      hops.set(key, hop);
    }
  }
  return [...hops.values()];
}

function edgesOf(caller: EndpointModel): MeshEdge[] {
  const mesh = caller.meshName;
  return caller.backends.flatMap((backend) => hopsOf(backend).map(({ target, listener, routes }) => {
    const router = backend.provider.kind === 'virtualRouter' ? backend.provider.virtualRouterName : undefined;
    const serviceNode = resourceNodeId(mesh, 'virtualService', backend.virtualServiceName);
    const { posture, facts, reason } = postureOf(caller, backend, target, listener);
    return {
      id: `${caller.id} -> ${backend.virtualServiceName} -> ${target.id}:${listener.port}`,
      caller: caller.id,
      service: backend.virtualServiceName,
      ...(router !== undefined ? { router } : {}),
      routes: [...routes].sort(),
      provider: target.id,
      port: listener.port,
      protocol: listener.protocol,
      posture,
      facts,
      reason,
      path: [caller.id, serviceNode, ...(router !== undefined ? [resourceNodeId(mesh, 'virtualRouter', router)] : []), target.id],
    };
  }));
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Every mesh of the model as a graph, in mesh-name order. */
export function meshGraphs(model: MeshModel): MeshGraph[] {
  return [...model.meshes].sort(byText).map((mesh) => {
    const endpoints = Object.values(model.endpoints).filter((endpoint) => endpoint.meshName === mesh);
    const nodes = new Map<string, GraphNode>();
    for (const endpoint of endpoints) nodes.set(endpoint.id, { id: endpoint.id, kind: endpoint.kind, name: endpoint.name, endpoint: endpoint.id });
    const edges: MeshEdge[] = [];
    for (const endpoint of endpoints) {
      for (const backend of endpoint.backends) {
        const service = resourceNodeId(mesh, 'virtualService', backend.virtualServiceName);
        nodes.set(service, { id: service, kind: 'virtualService', name: backend.virtualServiceName });
        if (backend.provider.kind === 'virtualRouter') {
          const router = resourceNodeId(mesh, 'virtualRouter', backend.provider.virtualRouterName);
          nodes.set(router, { id: router, kind: 'virtualRouter', name: backend.provider.virtualRouterName });
        }
      }
      edges.push(...edgesOf(endpoint));
    }
    return {
      mesh,
      nodes: [...nodes.values()].sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || byText(a.name, b.name)),
      edges: edges.sort((a, b) => byText(a.caller, b.caller) || byText(a.service, b.service) || byText(a.provider, b.provider) || a.port - b.port),
    };
  });
}

