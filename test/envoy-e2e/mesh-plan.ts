// The mesh a run drives: which endpoints it has, their node ids, and the ports each one's Envoy
// and application use, read from the spec (the `meshd:` blocks and listener portMappings).
// Two rewrites of a spec copy live here too: remapping every port to free ones, so a run never
// collides with whatever else listens on the machine (CI runners often have 8080 taken), and the
// compose variant, in which every endpoint is its own host reachable by its compose service name.
import { SpecFiles, type LocatedResource } from './spec-files';

/** One mesh endpoint (an Envoy) of the run, with the ports its processes listen on. */
export interface EndpointPlan {
  /** `mesh/<mesh>/virtualNode/<name>` or `mesh/<mesh>/virtualGateway/<name>`. */
  nodeId: string;
  kind: 'virtualNode' | 'virtualGateway';
  mesh: string;
  name: string;
  ingressPort: number;
  egressPort: number;
  adminPort: number;
  /** Port of the endpoint's own application (a virtual node's first listener); none for gateways. */
  appPort?: number;
  /** Protocol of that listener (names the clusters: `cds_ingress_<mesh>_<node>_<protocol>_<port>`). */
  appProtocol?: string;
  /** Service-discovery host name, if any (how other Envoys reach this one). */
  host?: string;
}

// meshd's defaults when a `meshd:` block leaves a port out (SPEC.md "Envoy naming").
const DEFAULT_PORTS = { ingressPort: 15000, egressPort: 15001, adminPort: 9901 };

function numberAt(files: SpecFiles, resource: LocatedResource, at: Array<string | number>, fallback: number): number {
  const value = files.get(resource, at);
  return typeof value === 'number' ? value : fallback;
}

function endpointResources(files: SpecFiles): LocatedResource[] {
  return files.resources().filter((r) => r.kind === 'VirtualNode' || r.kind === 'VirtualGateway');
}

/** The endpoints of a spec directory, in file order. */
export function planMesh(dir: string): EndpointPlan[] {
  const files = new SpecFiles(dir);
  return endpointResources(files).map((resource) => {
    const mesh = files.get(resource, ['meshName']);
    if (typeof mesh !== 'string') throw new Error(`${dir}/${resource.file}: ${resource.kind} ${resource.name}: meshName missing`);
    const kind = resource.kind === 'VirtualNode' ? 'virtualNode' as const : 'virtualGateway' as const;
    const plan: EndpointPlan = {
      nodeId: `mesh/${mesh}/${kind}/${resource.name}`,
      kind,
      mesh,
      name: resource.name,
      ingressPort: numberAt(files, resource, ['meshd', 'ingressPort'], DEFAULT_PORTS.ingressPort),
      egressPort: numberAt(files, resource, ['meshd', 'egressPort'], DEFAULT_PORTS.egressPort),
      adminPort: numberAt(files, resource, ['meshd', 'adminPort'], DEFAULT_PORTS.adminPort),
    };
    if (kind === 'virtualNode') {
      const appPort = files.get(resource, ['spec', 'listeners', 0, 'portMapping', 'port']);
      const protocol = files.get(resource, ['spec', 'listeners', 0, 'portMapping', 'protocol']);
      if (typeof appPort === 'number') plan.appPort = appPort;
      if (typeof protocol === 'string') plan.appProtocol = protocol;
      const host = files.get(resource, ['spec', 'serviceDiscovery', 'dns', 'hostname']);
      if (typeof host === 'string') plan.host = host;
    }
    return plan;
  });
}

/**
 * Gives every endpoint of the spec copy in `dir` fresh ports from `ports` (ingress, egress, admin,
 * and a virtual node's listener ports, which are its application's ports). References to node
 * listener ports elsewhere (route targets with `port`, client policy `ports`) are rewritten too.
 * Returns the new plan.
 */
export function remapPorts(dir: string, ports: readonly number[]): EndpointPlan[] {
  const files = new SpecFiles(dir);
  const pool = [...ports];
  const take = (): number => {
    const port = pool.shift();
    if (port === undefined) throw new Error(`remapPorts: ${ports.length} ports are not enough for ${dir}`);
    return port;
  };
  const appPortMap = new Map<string, number>();
  for (const resource of endpointResources(files)) {
    for (const key of ['ingressPort', 'egressPort', 'adminPort'] as const) files.set(resource, ['meshd', key], take());
    if (resource.kind !== 'VirtualNode') continue;
    const listeners = files.get(resource, ['spec', 'listeners']);
    (Array.isArray(listeners) ? listeners : []).forEach((_, i) => {
      const old = files.get(resource, ['spec', 'listeners', i, 'portMapping', 'port']);
      const fresh = take();
      appPortMap.set(`${resource.name}:${String(old)}`, fresh);
      files.set(resource, ['spec', 'listeners', i, 'portMapping', 'port'], fresh);
    });
  }
  for (const route of files.resources().filter((r) => r.kind === 'Route')) {
    for (const protocol of ['httpRoute', 'http2Route', 'grpcRoute', 'tcpRoute']) {
      const targets = files.get(route, ['spec', protocol, 'action', 'weightedTargets']);
      if (!Array.isArray(targets)) continue;
      targets.forEach((target: { virtualNode?: string; port?: number }, i) => {
        const fresh = target.port !== undefined ? appPortMap.get(`${target.virtualNode}:${target.port}`) : undefined;
        if (fresh !== undefined) files.set(route, ['spec', protocol, 'action', 'weightedTargets', i, 'port'], fresh);
      });
    }
  }
  files.save();
  return planMesh(dir);
}

/** How many ports remapPorts needs for a spec directory. */
export function portsNeeded(dir: string): number {
  const files = new SpecFiles(dir);
  return endpointResources(files).reduce((sum, resource) => {
    const listeners = resource.kind === 'VirtualNode' ? files.get(resource, ['spec', 'listeners']) : [];
    return sum + 3 + (Array.isArray(listeners) ? listeners.length : 0);
  }, 0);
}

/**
 * The compose variant of a spec copy: each virtual node is discovered by its compose service name
 * (its application's container, whose network namespace its Envoy shares), and every Envoy binds
 * its listeners on all interfaces of that namespace so other containers (and published ports)
 * reach them. Ports stay as the spec says: each endpoint is its own host now.
 */
export function rewriteForCompose(dir: string, serviceNameOf: (endpoint: string) => string = (name) => name): void {
  const files = new SpecFiles(dir);
  for (const resource of endpointResources(files)) {
    files.set(resource, ['meshd', 'address'], '0.0.0.0');
    if (resource.kind === 'VirtualNode' && typeof files.get(resource, ['spec', 'serviceDiscovery', 'dns', 'hostname']) === 'string') {
      files.set(resource, ['spec', 'serviceDiscovery', 'dns', 'hostname'], serviceNameOf(resource.name));
    }
  }
  files.save();
}
