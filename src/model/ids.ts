// Endpoint identities: the Envoy node id (App Mesh style, optionally a full ARN) and the SPIFFE ID
// in the endpoint's certificate.
import { parseNodeId as parseEndpointId } from '../xds/node-id';
import type { EndpointKind } from './types';

/** meshd's default SPIFFE trust domain. */
export const defaultTrustDomain = 'meshd.local';

/** `mesh/<mesh>/virtualNode/<name>`: the node id an Envoy uses, and the key of `model.endpoints`. */
export function endpointId(kind: EndpointKind, meshName: string, name: string): string {
  return `mesh/${meshName}/${kind}/${name}`;
}

/** `spiffe://<trustDomain>/mesh/<mesh>/<kind>/<name>`. */
export function spiffeIdOf(trustDomain: string, kind: EndpointKind, meshName: string, name: string): string {
  return `spiffe://${trustDomain}/${endpointId(kind, meshName, name)}`;
}

/** `spiffe://<trustDomain>`: the SDS name of meshd's CA bundle (SPIRE style). */
export function trustDomainId(trustDomain: string): string {
  return `spiffe://${trustDomain}`;
}

/** A parsed node id. */
export interface ParsedNodeId {
  readonly kind: EndpointKind;
  readonly meshName: string;
  readonly name: string;
  /** The canonical `mesh/<mesh>/<kind>/<name>` form. */
  readonly id: string;
}

/** Parse `mesh/<mesh>/virtualNode/<name>` or its App Mesh ARN form; undefined when it is neither. */
export function parseNodeId(nodeId: string): ParsedNodeId | undefined {
  try {
    const parsed = parseEndpointId(nodeId);
    return { kind: parsed.kind, meshName: parsed.mesh, name: parsed.name, id: parsed.key };
  } catch {
    return undefined;
  }
}

const trustDomainPattern = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

/** True for a SPIFFE trust domain name (lower-case letters, digits, dots, dashes). */
export function isValidTrustDomain(trustDomain: string): boolean {
  return trustDomain.length <= 255 && trustDomainPattern.test(trustDomain);
}
