// Envoy's node.id names the mesh endpoint it is: `mesh/<mesh>/virtualNode/<name>`,
// `mesh/<mesh>/virtualGateway/<name>`, or the same as a full App Mesh ARN
// (`arn:aws:appmesh:<region>:<account>:mesh/<mesh>/virtualNode/<name>`).

export type EndpointKind = 'virtualNode' | 'virtualGateway';

export interface MeshEndpointId {
  mesh: string;
  kind: EndpointKind;
  name: string;
  /** Canonical form `mesh/<mesh>/<kind>/<name>`: the key of the endpoint's snapshot. */
  key: string;
}

// App Mesh names: 1-255 letters, digits, hyphens, underscores and dots.
const NAME = '[A-Za-z0-9][A-Za-z0-9._-]{0,254}';
const RESOURCE = new RegExp(`^mesh/(${NAME})/(virtualNode|virtualGateway)/(${NAME})$`);
const ARN = /^arn:aws[a-zA-Z-]*:appmesh:[a-z0-9-]*:[0-9]*:(.*)$/;

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

export function endpointKey(mesh: string, kind: EndpointKind, name: string): string {
  return `mesh/${mesh}/${kind}/${name}`;
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
