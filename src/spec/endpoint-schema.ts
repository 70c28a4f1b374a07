// Specs of the two kinds of mesh endpoint, the ones a proxy runs for: VirtualNode and
// VirtualGateway (App Mesh field names and nesting), plus meshd's local-run extension block.
import { z } from 'zod';
import { duration, exactlyOneOf, gatewayProtocol, port, protocol, resourceName } from './common-schema';
import { backendDefaults, clientPolicy, listenerTls } from './tls-schema';

const portMapping = z.strictObject({ port, protocol });

const healthCheck = z.strictObject({
  healthyThreshold: z.int().min(2).max(10),
  intervalMillis: z.int().min(5000).max(300000),
  path: z.string().optional(),
  port: port.optional(),
  protocol,
  timeoutMillis: z.int().min(2000).max(60000),
  unhealthyThreshold: z.int().min(2).max(10),
});

const httpTimeout = z.strictObject({ idle: duration.optional(), perRequest: duration.optional() });

const listenerTimeout = exactlyOneOf({
  http: httpTimeout.optional(),
  http2: httpTimeout.optional(),
  grpc: httpTimeout.optional(),
  tcp: z.strictObject({ idle: duration.optional() }).optional(),
});

const connectionPool = exactlyOneOf({
  http: z.strictObject({ maxConnections: z.int().min(1), maxPendingRequests: z.int().min(1).optional() }).optional(),
  http2: z.strictObject({ maxRequests: z.int().min(1) }).optional(),
  grpc: z.strictObject({ maxRequests: z.int().min(1) }).optional(),
  tcp: z.strictObject({ maxConnections: z.int().min(1) }).optional(),
});

const outlierDetection = z.strictObject({
  baseEjectionDuration: duration,
  interval: duration,
  maxEjectionPercent: z.int().min(0).max(100),
  maxServerErrors: z.int().min(1),
});

const virtualNodeListener = z.strictObject({
  portMapping,
  tls: listenerTls.optional(),
  healthCheck: healthCheck.optional(),
  timeout: listenerTimeout.optional(),
  connectionPool: connectionPool.optional(),
  outlierDetection: outlierDetection.optional(),
}).superRefine((listener, ctx) => {
  // A block for another protocol than the listener's would be silently ignored: say so instead.
  const listenerProtocol = listener.portMapping.protocol;
  for (const field of ['timeout', 'connectionPool'] as const) {
    const block = listener[field];
    if (!block) continue;
    for (const key of Object.keys(block)) {
      if (key !== listenerProtocol) {
        ctx.addIssue({ code: 'custom', path: [field, key], message: `the listener's protocol is ${listenerProtocol}; use ${field}.${listenerProtocol}` });
      }
    }
  }
  // App Mesh: the health check's port must be the listener's own port.
  const checkPort = listener.healthCheck?.port;
  if (checkPort !== undefined && checkPort !== listener.portMapping.port) {
    ctx.addIssue({ code: 'custom', path: ['healthCheck', 'port'], message: `must equal the listener's port (${listener.portMapping.port})` });
  }
});

const ipPreference = z.enum(['IPv6_PREFERRED', 'IPv4_PREFERRED', 'IPv4_ONLY', 'IPv6_ONLY']);

const serviceDiscovery = exactlyOneOf({
  dns: z.strictObject({
    hostname: z.string().min(1),
    responseType: z.enum(['LOADBALANCER', 'ENDPOINTS']).optional(),
    ipPreference: ipPreference.optional(),
  }).optional(),
  awsCloudMap: z.strictObject({
    namespaceName: z.string().min(1).max(1024),
    serviceName: z.string().min(1).max(1024),
    // AwsCloudMapInstanceAttributeKey / Value: printable ASCII, 1-255 / 1-1024 (values may hold spaces, not first).
    attributes: z.array(z.strictObject({
      key: z.string().min(1).max(255).regex(/^[!-~]+$/, 'must be printable ASCII without spaces'),
      value: z.string().min(1).max(1024).regex(/^[!-~][ !-~]*$/, 'must be printable ASCII, not starting with a space'),
    })).optional(),
    ipPreference: ipPreference.optional(),
  }).optional(),
});

// JsonKey, JsonValue: 1-100; TextFormat: 1-1000.
const accessLogFormat = exactlyOneOf({
  json: z.array(z.strictObject({ key: z.string().min(1).max(100), value: z.string().min(1).max(100) })).optional(),
  text: z.string().min(1).max(1000).optional(),
});

const logging = z.strictObject({
  accessLog: z.strictObject({
    file: z.strictObject({ path: z.string().min(1).max(255), format: accessLogFormat.optional() }), // FilePath
  }).optional(),
});

const backend = z.strictObject({
  virtualService: z.strictObject({
    virtualServiceName: resourceName,
    clientPolicy: clientPolicy.optional(),
  }),
});

/** `spec` of a VirtualNode. */
export const virtualNodeSpec = z.strictObject({
  listeners: z.array(virtualNodeListener).optional(),
  serviceDiscovery: serviceDiscovery.optional(),
  backends: z.array(backend).optional(),
  backendDefaults: backendDefaults.optional(),
  logging: logging.optional(),
});
export type VirtualNodeSpec = z.infer<typeof virtualNodeSpec>;

const gatewayListener = z.strictObject({
  portMapping: z.strictObject({ port, protocol: gatewayProtocol }),
  tls: listenerTls.optional(),
  healthCheck: healthCheck.extend({ protocol: gatewayProtocol }).optional(),
  connectionPool: exactlyOneOf({
    http: z.strictObject({ maxConnections: z.int().min(1), maxPendingRequests: z.int().min(1).optional() }).optional(),
    http2: z.strictObject({ maxRequests: z.int().min(1) }).optional(),
    grpc: z.strictObject({ maxRequests: z.int().min(1) }).optional(),
  }).optional(),
});

/** `spec` of a VirtualGateway: TLS-terminating listeners, only a default client policy. */
export const virtualGatewaySpec = z.strictObject({
  listeners: z.array(gatewayListener).min(1),
  backendDefaults: backendDefaults.optional(),
  logging: logging.optional(),
});
export type VirtualGatewaySpec = z.infer<typeof virtualGatewaySpec>;

/** meshd's local-run settings beside `spec` (not App Mesh): where this endpoint's proxy listens. */
export const gatewayMeshdSettings = z.strictObject({
  /** Where the endpoint's Envoy ingress listener listens (default 15000). */
  ingressPort: port.optional(),
  /** Where the endpoint's Envoy egress listener listens (default 15001). */
  egressPort: port.optional(),
  /** Envoy admin port (default 9901). */
  adminPort: port.optional(),
  /** Address the listeners bind (default 0.0.0.0). */
  address: z.string().min(1).optional(),
});

/** meshd settings of a virtual node: as for gateways, plus `proxyless` (gRPC service without Envoy). */
export const nodeMeshdSettings = gatewayMeshdSettings.extend({ proxyless: z.boolean().optional() });
export type MeshdSettingsInput = z.infer<typeof nodeMeshdSettings>;
