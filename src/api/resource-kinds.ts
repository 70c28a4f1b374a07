// The seven App Mesh resource kinds as the API names them: the member that carries a resource in a
// response (`virtualNode`), the list's result member, its name field, the parent a Route or
// GatewayRoute lives under, and its ARN.

export type ApiKind = 'Mesh' | 'VirtualNode' | 'VirtualGateway' | 'VirtualService' | 'VirtualRouter' | 'Route' | 'GatewayRoute';

export interface KindInfo {
  readonly kind: ApiKind;
  /** Output member and ARN segment: `virtualNode`. */
  readonly noun: string;
  readonly nameField: string;
  /** A Route lives under a VirtualRouter, a GatewayRoute under a VirtualGateway. */
  readonly parent?: { readonly kind: ApiKind; readonly nameField: string; readonly noun: string };
}

export const kinds: Readonly<Record<ApiKind, KindInfo>> = {
  Mesh: { kind: 'Mesh', noun: 'mesh', nameField: 'meshName' },
  VirtualNode: { kind: 'VirtualNode', noun: 'virtualNode', nameField: 'virtualNodeName' },
  VirtualGateway: { kind: 'VirtualGateway', noun: 'virtualGateway', nameField: 'virtualGatewayName' },
  VirtualService: { kind: 'VirtualService', noun: 'virtualService', nameField: 'virtualServiceName' },
  VirtualRouter: { kind: 'VirtualRouter', noun: 'virtualRouter', nameField: 'virtualRouterName' },
  Route: { kind: 'Route', noun: 'route', nameField: 'routeName', parent: { kind: 'VirtualRouter', nameField: 'virtualRouterName', noun: 'virtualRouter' } },
  GatewayRoute: { kind: 'GatewayRoute', noun: 'gatewayRoute', nameField: 'gatewayRouteName', parent: { kind: 'VirtualGateway', nameField: 'virtualGatewayName', noun: 'virtualGateway' } },
};

export const apiKinds = Object.keys(kinds) as ApiKind[];

export function isApiKind(kind: string): kind is ApiKind {
  return kind in kinds;
}

/** Identifies one resource. For a Mesh, `name` is the mesh's name. */
export interface ResourceRef {
  readonly kind: ApiKind;
  readonly meshName: string;
  readonly parentName?: string;
  readonly name: string;
}

/** Where ARNs say resources live. */
export interface ArnContext {
  readonly region: string;
  readonly account: string;
}

export function arnOf(context: ArnContext, ref: ResourceRef): string {
  const info = kinds[ref.kind];
  let resource = `mesh/${ref.meshName}`;
  if (info.parent && ref.parentName !== undefined) resource += `/${info.parent.noun}/${ref.parentName}`;
  if (ref.kind !== 'Mesh') resource += `/${info.noun}/${ref.name}`;
  return `arn:aws:appmesh:${context.region}:${context.account}:${resource}`;
}

/** The resource an ARN names (of this region and account), or a message saying what is wrong. */
export function parseArn(context: ArnContext, arn: string): ResourceRef | string {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'appmesh') return `"${arn}" is not an App Mesh ARN`;
  if (parts[3] !== context.region || parts[4] !== context.account) return `"${arn}" is not in region ${context.region}, account ${context.account}`;
  const segments = parts[5]!.split('/');
  if (segments[0] !== 'mesh' || !segments[1]) return `"${arn}" does not name a mesh resource`;
  const meshName = segments[1];
  if (segments.length === 2) return { kind: 'Mesh', meshName, name: meshName };
  const direct = apiKinds.find((kind) => !kinds[kind].parent && kinds[kind].noun === segments[2]);
  if (segments.length === 4 && direct) return { kind: direct, meshName, name: segments[3]! };
  const child = apiKinds.find((kind) => kinds[kind].parent?.noun === segments[2] && kinds[kind].noun === segments[4]);
  if (segments.length === 6 && child) return { kind: child, meshName, parentName: segments[3]!, name: segments[5]! };
  return `"${arn}" does not name a mesh resource`;
}

/** `VirtualNode front in mesh app`, for messages. */
export function describeRef(ref: ResourceRef): string {
  if (ref.kind === 'Mesh') return `Mesh ${ref.meshName}`;
  const parent = kinds[ref.kind].parent;
  return `${ref.kind} ${ref.name}${parent ? ` of ${parent.kind} ${ref.parentName}` : ''} in mesh ${ref.meshName}`;
}
