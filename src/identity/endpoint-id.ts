// Endpoint identity, in one place. A mesh endpoint (a virtual node or virtual gateway) has:
// - a node id, the `node.id` its proxy sends: `mesh/<mesh>/<kind>/<name>`, or the same as a full
//   App Mesh ARN (`arn:aws:appmesh:<region>:<account>:mesh/<mesh>/<kind>/<name>`);
// - a key, the canonical `mesh/<mesh>/<kind>/<name>`: the key of its snapshots and model entry;
// - a default SPIFFE ID, `spiffe://<trust-domain>/<key>` (a spec may assign another, SPIRE style);
// - an App Mesh ARN, for APIs that speak App Mesh.
// Every other module parses and formats these through here.

export type EndpointKind = 'virtualNode' | 'virtualGateway';

export interface MeshEndpointId {
  mesh: string;
  kind: EndpointKind;
  name: string;
  /** Canonical form `mesh/<mesh>/<kind>/<name>`: the key of the endpoint's snapshot. */
  key: string;
}

/** meshd's default SPIFFE trust domain. */
export const DEFAULT_TRUST_DOMAIN = 'meshd.local';

// App Mesh names: 1-255 letters, digits, hyphens, underscores and dots.
const NAME = '[A-Za-z0-9][A-Za-z0-9._-]{0,254}';
const RESOURCE = new RegExp(`^mesh/(${NAME})/(virtualNode|virtualGateway)/(${NAME})$`);
const ARN = /^arn:aws[a-zA-Z-]*:appmesh:[a-z0-9-]*:[0-9]*:(.*)$/;
const TRUST_DOMAIN = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

export class NodeIdError extends Error {}

/** Parses a node id; throws NodeIdError with a message that says what a valid one looks like. */
export function parseNodeId(nodeId: string): MeshEndpointId {
  if (!nodeId) throw new NodeIdError('node.id is empty: expected mesh/<mesh>/virtualNode/<name> or mesh/<mesh>/virtualGateway/<name>');
  const arn = ARN.exec(nodeId);
  const resource = arn ? arn[1]! : nodeId;
  const match = RESOURCE.exec(resource);
  if (!match) {
    throw new NodeIdError(`node.id "${truncate(nodeId)}" is not a mesh endpoint: expected mesh/<mesh>/virtualNode/<name> or mesh/<mesh>/virtualGateway/<name>, optionally as an App Mesh ARN`);
  }
  const [, mesh, kind, name] = match as unknown as [string, string, EndpointKind, string];
  return { mesh, kind, name, key: endpointKey(mesh, kind, name) };
}

/** The endpoint a node id names, or undefined when it names none. */
export function tryParseNodeId(nodeId: string): MeshEndpointId | undefined {
  try {
    return parseNodeId(nodeId);
  } catch {
    return undefined;
  }
}

/** `mesh/<mesh>/<kind>/<name>`: the node id an Envoy uses, and the key of `model.endpoints`. */
export function endpointKey(mesh: string, kind: EndpointKind, name: string): string {
  return `mesh/${mesh}/${kind}/${name}`;
}

/** `spiffe://<trustDomain>`: the SPIFFE ID of the trust domain, the SDS name of its CA bundle. */
export function trustDomainId(trustDomain: string): string {
  return `spiffe://${trustDomain}`;
}

/** `spiffe://<trustDomain>/mesh/<mesh>/<kind>/<name>`: an endpoint's default SPIFFE ID. */
export function spiffeIdOf(trustDomain: string, endpoint: Pick<MeshEndpointId, 'mesh' | 'kind' | 'name'>): string {
  return `${trustDomainId(trustDomain)}/${endpointKey(endpoint.mesh, endpoint.kind, endpoint.name)}`;
}

/** The endpoint whose default SPIFFE ID this is, or undefined. */
export function endpointOfSpiffeId(trustDomain: string, spiffeId: string): MeshEndpointId | undefined {
  const prefix = `${trustDomainId(trustDomain)}/`;
  return spiffeId.startsWith(prefix) ? tryParseNodeId(spiffeId.slice(prefix.length)) : undefined;
}

/** `arn:<partition>:appmesh:<region>:<account>:mesh/<mesh>/<kind>/<name>`. */
export function appMeshArn(endpoint: Pick<MeshEndpointId, 'mesh' | 'kind' | 'name'>, region: string, account: string, partition = 'aws'): string {
  return `arn:${partition}:appmesh:${region}:${account}:${endpointKey(endpoint.mesh, endpoint.kind, endpoint.name)}`;
}

/** True for a SPIFFE trust domain name (lower-case letters, digits, dots, dashes). */
export function isValidTrustDomain(trustDomain: string): boolean {
  return trustDomain.length <= 255 && TRUST_DOMAIN.test(trustDomain);
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
