// One schema per resource kind: the envelope (`kind`, App Mesh name fields, `spec`, meshd's
// extensions) around the spec schemas. Also what create-* input carries and meshd ignores (tags,
// clientToken, meshOwner).
import { z } from 'zod';
import { endpointName, resourceName, routingName, tags, virtualServiceName } from './common-schema';
import { gatewayMeshdSettings, nodeMeshdSettings, virtualGatewaySpec, virtualNodeSpec } from './endpoint-schema';
import { gatewayRouteSpec, routeSpec, virtualRouterSpec, virtualServiceSpec } from './route-schema';

/** Every kind a spec file may hold. `Secret` is meshd's own (a file-backed SDS secret). */
export const resourceKinds = [
  'Mesh', 'VirtualNode', 'VirtualGateway', 'VirtualService', 'VirtualRouter', 'Route', 'GatewayRoute', 'Secret',
] as const;
export type ResourceKind = (typeof resourceKinds)[number];

/** The field that names a resource of each kind. */
export const nameFieldOf: Readonly<Record<ResourceKind, string>> = {
  Mesh: 'meshName',
  VirtualNode: 'virtualNodeName',
  VirtualGateway: 'virtualGatewayName',
  VirtualService: 'virtualServiceName',
  VirtualRouter: 'virtualRouterName',
  Route: 'routeName',
  GatewayRoute: 'gatewayRouteName',
  Secret: 'secretName',
};

// A resource's own name field carries its kind's naming rule (common-schema); fields naming another
// resource (meshName, a parent) only the model's 1-255, so a bad name is reported once, where it is
// declared, and references to it are not reported as missing.

// Fields the create-* CLI input may carry; accepted and ignored.
const createInputExtras = {
  tags: tags.optional(),
  clientToken: z.string().optional(),
  meshOwner: z.string().optional(),
};

const meshSpec = z.strictObject({
  egressFilter: z.strictObject({ type: z.enum(['ALLOW_ALL', 'DROP_ALL']) }).optional(),
  serviceDiscovery: z.strictObject({
    ipPreference: z.enum(['IPv6_PREFERRED', 'IPv4_PREFERRED', 'IPv4_ONLY', 'IPv6_ONLY']).optional(),
  }).optional(),
});
export type MeshSpec = z.infer<typeof meshSpec>;

const meshResource = z.strictObject({
  kind: z.literal('Mesh'),
  meshName: endpointName,
  spec: meshSpec.optional(),
  ...createInputExtras,
});

const virtualNodeResource = z.strictObject({
  kind: z.literal('VirtualNode'),
  meshName: resourceName,
  virtualNodeName: endpointName,
  spec: virtualNodeSpec,
  meshd: nodeMeshdSettings.optional(),
  ...createInputExtras,
});

const virtualGatewayResource = z.strictObject({
  kind: z.literal('VirtualGateway'),
  meshName: resourceName,
  virtualGatewayName: endpointName,
  spec: virtualGatewaySpec,
  meshd: gatewayMeshdSettings.optional(),
  ...createInputExtras,
});

const virtualServiceResource = z.strictObject({
  kind: z.literal('VirtualService'),
  meshName: resourceName,
  virtualServiceName,
  spec: virtualServiceSpec,
  ...createInputExtras,
});

const virtualRouterResource = z.strictObject({
  kind: z.literal('VirtualRouter'),
  meshName: resourceName,
  virtualRouterName: routingName,
  spec: virtualRouterSpec,
  ...createInputExtras,
});

const routeResource = z.strictObject({
  kind: z.literal('Route'),
  meshName: resourceName,
  virtualRouterName: resourceName,
  routeName: routingName,
  spec: routeSpec,
  ...createInputExtras,
});

const gatewayRouteResource = z.strictObject({
  kind: z.literal('GatewayRoute'),
  meshName: resourceName,
  virtualGatewayName: resourceName,
  gatewayRouteName: routingName,
  spec: gatewayRouteSpec,
  ...createInputExtras,
});

/** meshd `Secret`: a file-backed SDS secret, either a certificate with its key or a trusted CA. */
const secretResource = z.strictObject({
  kind: z.literal('Secret'),
  meshName: resourceName,
  secretName: z.string().min(1),
  spec: z.strictObject({
    file: z.strictObject({
      certificateChain: z.string().min(1).optional(),
      privateKey: z.string().min(1).optional(),
      trustedCa: z.string().min(1).optional(),
    }).superRefine((file, ctx) => {
      const isCertificate = file.certificateChain !== undefined || file.privateKey !== undefined;
      if (isCertificate && file.trustedCa !== undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be either certificateChain with privateKey, or trustedCa, not both' });
      } else if (isCertificate && (file.certificateChain === undefined || file.privateKey === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [file.certificateChain === undefined ? 'certificateChain' : 'privateKey'],
          message: 'is required with ' + (file.certificateChain === undefined ? 'privateKey' : 'certificateChain'),
        });
      } else if (!isCertificate && file.trustedCa === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must set certificateChain and privateKey, or trustedCa' });
      }
    }),
  }),
});

/** The schema that validates a resource of each kind. */
export const resourceSchemas = {
  Mesh: meshResource,
  VirtualNode: virtualNodeResource,
  VirtualGateway: virtualGatewayResource,
  VirtualService: virtualServiceResource,
  VirtualRouter: virtualRouterResource,
  Route: routeResource,
  GatewayRoute: gatewayRouteResource,
  Secret: secretResource,
} as const;

/** Where a resource was read from. */
export interface ResourceSource {
  /** File name relative to the spec directory (as printed in errors). */
  readonly file: string;
  /** 0-based index of the document (YAML) or array element (JSON) in the file. */
  readonly index: number;
}

type WithSource<T> = T & { readonly source: ResourceSource };
export type MeshResource = WithSource<z.infer<typeof meshResource>>;
export type VirtualNodeResource = WithSource<z.infer<typeof virtualNodeResource>>;
export type VirtualGatewayResource = WithSource<z.infer<typeof virtualGatewayResource>>;
export type VirtualServiceResource = WithSource<z.infer<typeof virtualServiceResource>>;
export type VirtualRouterResource = WithSource<z.infer<typeof virtualRouterResource>>;
export type RouteResource = WithSource<z.infer<typeof routeResource>>;
export type GatewayRouteResource = WithSource<z.infer<typeof gatewayRouteResource>>;
export type SecretResource = WithSource<z.infer<typeof secretResource>>;

/** A validated resource of any kind, with where it came from. */
export type Resource =
  | MeshResource | VirtualNodeResource | VirtualGatewayResource | VirtualServiceResource
  | VirtualRouterResource | RouteResource | GatewayRouteResource | SecretResource;

/** The name of a resource (its kind's name field). */
export function nameOf(resource: Resource): string {
  switch (resource.kind) {
    case 'Mesh': return resource.meshName;
    case 'VirtualNode': return resource.virtualNodeName;
    case 'VirtualGateway': return resource.virtualGatewayName;
    case 'VirtualService': return resource.virtualServiceName;
    case 'VirtualRouter': return resource.virtualRouterName;
    case 'Route': return resource.routeName;
    case 'GatewayRoute': return resource.gatewayRouteName;
    case 'Secret': return resource.secretName;
  }
}

/** How errors name a resource: `VirtualNode colorteller`. */
export function labelOf(resource: Pick<Resource, 'kind'> & Partial<Record<string, unknown>>): string {
  const name = resource[nameFieldOf[resource.kind]];
  return typeof name === 'string' && name !== '' ? `${resource.kind} ${name}` : resource.kind;
}
