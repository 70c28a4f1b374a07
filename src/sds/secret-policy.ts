// What the mesh model says about one endpoint's secrets, as a pure function of the model: the DNS
// names its leaf carries, the file-backed secrets it may receive, and the SPIFFE ID its spec
// assigns (SPIRE style). The secret cache asks it for every node it serves.
import * as net from 'node:net';
import type { MeshModel } from '../model/types';
import type { EndpointSecretPolicy } from './secret-cache';

export function secretPolicyFor(model: MeshModel | undefined, endpointKey: string): EndpointSecretPolicy | undefined {
  const endpoint = model?.endpoints[endpointKey];
  if (!endpoint) return undefined;
  const hostname = endpoint.serviceDiscovery?.hostname;
  return {
    // An IP address is not a DNS name: the leaf carries it only as the service-discovery host.
    dnsNames: hostname && net.isIP(hostname) === 0 ? [hostname] : [],
    fileSecrets: endpoint.sdsSecrets.filter((use) => use.provision.kind === 'file-certificate' || use.provision.kind === 'file-trust').map((use) => use.secretName),
    // The model's identity: the default SPIFFE ID, or the one the spec assigns (SPIRE style).
    spiffeId: endpoint.spiffeId,
  };
}
