// The CloudFormation resource types meshd imports, the meshd kind each becomes, and what
// CloudFormation gives for `Ref` (the ARN) and `Fn::GetAtt` (names, ARN, owners) of each.
import type { ResourceKind } from '../spec/resource-schema';

/** How one AWS::AppMesh::* type maps to a meshd kind. */
export interface AppMeshType {
  readonly kind: Exclude<ResourceKind, 'Secret'>;
  /** The CloudFormation property naming the resource, e.g. `VirtualNodeName`. */
  readonly nameProperty: string;
  /** The parent's name property, for a Route (`VirtualRouterName`) or GatewayRoute (`VirtualGatewayName`). */
  readonly parentProperty?: 'VirtualRouterName' | 'VirtualGatewayName';
  /** The ARN resource path segment, e.g. `virtualNode`. */
  readonly arnSegment: string;
}

export const appMeshTypes: Readonly<Record<string, AppMeshType>> = {
  'AWS::AppMesh::Mesh': { kind: 'Mesh', nameProperty: 'MeshName', arnSegment: 'mesh' },
  'AWS::AppMesh::VirtualNode': { kind: 'VirtualNode', nameProperty: 'VirtualNodeName', arnSegment: 'virtualNode' },
  'AWS::AppMesh::VirtualService': { kind: 'VirtualService', nameProperty: 'VirtualServiceName', arnSegment: 'virtualService' },
  'AWS::AppMesh::VirtualRouter': { kind: 'VirtualRouter', nameProperty: 'VirtualRouterName', arnSegment: 'virtualRouter' },
  'AWS::AppMesh::Route': { kind: 'Route', nameProperty: 'RouteName', parentProperty: 'VirtualRouterName', arnSegment: 'route' },
  'AWS::AppMesh::VirtualGateway': { kind: 'VirtualGateway', nameProperty: 'VirtualGatewayName', arnSegment: 'virtualGateway' },
  'AWS::AppMesh::GatewayRoute': { kind: 'GatewayRoute', nameProperty: 'GatewayRouteName', parentProperty: 'VirtualGatewayName', arnSegment: 'gatewayRoute' },
};

/** The names that identify an App Mesh resource of a template. */
export interface AppMeshNames {
  readonly type: AppMeshType;
  readonly meshName: string;
  readonly name: string;
  readonly parentName?: string;
}

/** The resource part of an App Mesh ARN: `mesh/M/virtualRouter/R/route/N`. */
export function arnResourcePath(names: AppMeshNames): string {
  const { type } = names;
  if (type.kind === 'Mesh') return `mesh/${names.name}`;
  if (type.parentProperty === 'VirtualRouterName') return `mesh/${names.meshName}/virtualRouter/${names.parentName}/route/${names.name}`;
  if (type.parentProperty === 'VirtualGatewayName') return `mesh/${names.meshName}/virtualGateway/${names.parentName}/gatewayRoute/${names.name}`;
  return `mesh/${names.meshName}/${type.arnSegment}/${names.name}`;
}

/** The `Fn::GetAtt` attribute that gives each name (besides Arn, Uid, MeshOwner, ResourceOwner). */
export function nameAttribute(names: AppMeshNames, attribute: string): string | undefined {
  if (attribute === names.type.nameProperty) return names.name;
  if (attribute === 'MeshName') return names.meshName;
  if (names.type.parentProperty !== undefined && attribute === names.type.parentProperty) return names.parentName;
  return undefined;
}

/** `arn:aws:appmesh:us-east-1:111122223333:mesh/demo/virtualNode/blue` → `blue` (any App Mesh ARN's last name). */
export function nameFromAppMeshArn(value: string): string | undefined {
  const match = /^arn:aws[a-z-]*:appmesh:[^:]*:[^:]*:mesh\/(.+)$/.exec(value);
  if (!match) return undefined;
  const parts = match[1]!.split('/');
  return parts[parts.length - 1];
}
