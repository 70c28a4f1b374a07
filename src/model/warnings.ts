// Things meshd accepts but cannot honour, said as warnings beside the model (they do not refuse a
// change). Today: Cloud Map instance attributes. meshd cannot query Cloud Map; it resolves
// `awsCloudMap` service discovery as the DNS name `<serviceName>.<namespaceName>`, so attributes,
// which select a subset of the service's instances in App Mesh, select nothing here. Two virtual
// nodes that differ only by attributes (a blue and a red version) end up with one endpoint, and a
// weighted route between them splits nothing: those nodes are named.
import type { SpecError } from '../spec/errors';
import { labelOf, type VirtualNodeResource } from '../spec/resource-schema';
import type { EndpointFacts } from './endpoint-facts';

/** A virtual node with the facts the endpoint address is derived from. */
export interface NodeWithFacts {
  readonly resource: VirtualNodeResource;
  readonly facts: Pick<EndpointFacts, 'serviceDiscovery' | 'listeners' | 'meshd'>;
}

// Where callers connect, as the translation addresses it: the target's Envoy ingress port, or for a
// proxyless gRPC service its own listener ports.
function endpointAddresses({ facts }: NodeWithFacts): string[] {
  const hostname = facts.serviceDiscovery?.hostname;
  if (hostname === undefined) return [];
  const ports = facts.meshd.proxyless ? facts.listeners.map((listener) => listener.port) : [facts.meshd.ingressPort];
  return [...new Set(ports)].map((port) => `${hostname}:${port}`);
}

function attributesOf({ facts }: NodeWithFacts): readonly { key: string; value: string }[] {
  return facts.serviceDiscovery?.kind === 'awsCloudMap' ? facts.serviceDiscovery.attributes : [];
}

const attributesPath = 'spec.serviceDiscovery.awsCloudMap.attributes';

/** True when any of these nodes' facts has Cloud Map attributes (else there is nothing to warn of). */
export function hasCloudMapAttributes(facts: Iterable<NodeWithFacts['facts']>): boolean {
  for (const each of facts) if (each.serviceDiscovery?.kind === 'awsCloudMap' && each.serviceDiscovery.attributes.length > 0) return true;
  return false;
}

/** One warning per virtual node whose Cloud Map attributes meshd ignores, naming the nodes it now shares an endpoint with. */
export function cloudMapWarnings(nodes: readonly NodeWithFacts[]): SpecError[] {
  // Most meshes have no attributes at all: then there is nothing to say, nor addresses to gather.
  if (!hasCloudMapAttributes(nodes.map((node) => node.facts))) return [];
  const byAddress = new Map<string, NodeWithFacts[]>();
  for (const node of nodes) {
    for (const address of endpointAddresses(node)) {
      const key = `${node.resource.meshName}|${address}`;
      byAddress.set(key, [...(byAddress.get(key) ?? []), node]);
    }
  }
  const warnings: SpecError[] = [];
  for (const node of nodes) {
    if (attributesOf(node).length === 0) continue;
    const discovery = node.facts.serviceDiscovery!;
    const sharing = new Map<string, string[]>();
    for (const address of endpointAddresses(node)) {
      const others = (byAddress.get(`${node.resource.meshName}|${address}`) ?? []).filter((other) => other !== node);
      if (others.length > 0) sharing.set(address, others.map((other) => other.resource.virtualNodeName));
    }
    const resolved = `meshd cannot query Cloud Map and resolves it as the DNS name "${discovery.hostname}" (serviceName.namespaceName), every instance alike`;
    const consequence = sharing.size === 0
      ? 'traffic goes to every instance of the service, whatever its attributes'
      : [...sharing].map(([address, names]) =>
        `virtual nodes ${[node.resource.virtualNodeName, ...names].sort().join(', ')} have the same endpoint ${address}, so routes between them split nothing`).join('; ');
    warnings.push({
      file: node.resource.source.file,
      resource: labelOf(node.resource),
      path: attributesPath,
      message: `ignored: ${resolved}; ${consequence}`,
    });
  }
  return warnings;
}
