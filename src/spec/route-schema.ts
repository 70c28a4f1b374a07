// Specs of routing resources: VirtualService, VirtualRouter, Route and GatewayRoute (App Mesh
// field names). Weighted targets let traffic shift between an old node and a TLS-enabled one (004).
import { z } from 'zod';
import { duration, exactlyOneOf, headerMatch, port, protocol, resourceName } from './common-schema';

/** `spec` of a VirtualService: provided by a virtual node or a virtual router (or nothing yet). */
export const virtualServiceSpec = z.strictObject({
  provider: exactlyOneOf({
    virtualNode: z.strictObject({ virtualNodeName: resourceName }).optional(),
    virtualRouter: z.strictObject({ virtualRouterName: resourceName }).optional(),
  }).optional(),
});
export type VirtualServiceSpec = z.infer<typeof virtualServiceSpec>;

/** `spec` of a VirtualRouter: the ports and protocols its routes serve. */
export const virtualRouterSpec = z.strictObject({
  listeners: z.array(z.strictObject({ portMapping: z.strictObject({ port, protocol }) })).min(1),
});
export type VirtualRouterSpec = z.infer<typeof virtualRouterSpec>;

const weightedTarget = z.strictObject({
  virtualNode: resourceName,
  weight: z.int().min(0).max(100),
  port: port.optional(),
});

const routeAction = z.strictObject({
  weightedTargets: z.array(weightedTarget).min(1).max(10),
});

const httpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

// HttpPathExact, HttpPathRegex: 1-255.
const pathMatch = exactlyOneOf({
  exact: z.string().min(1).max(255).optional(),
  regex: z.string().min(1).max(255).optional(),
});

/**
 * `match.prefix` of HTTP routes and gateway routes. The model's documentation: "This parameter must
 * always start with /"; a prefix without one never matches a request path, in Envoy as in App Mesh.
 */
const pathPrefix = z.string().min(1).refine((prefix) => prefix.startsWith('/'), {
  message: 'must start with "/" ("/" alone matches every request): a request path always does, so this prefix would never match',
});

const queryParameterMatch = z.strictObject({
  name: z.string().min(1),
  match: z.strictObject({ exact: z.string() }).optional(),
});

const httpRouteMatch = z.strictObject({
  prefix: pathPrefix.optional(),
  path: pathMatch.optional(),
  headers: z.array(headerMatch).min(1).max(10).optional(),
  method: httpMethod.optional(),
  scheme: z.enum(['http', 'https']).optional(),
  queryParameters: z.array(queryParameterMatch).min(1).max(10).optional(),
  port: port.optional(),
});

const httpRetryEvent = z.enum(['server-error', 'gateway-error', 'client-error', 'stream-error']);
const tcpRetryEvent = z.enum(['connection-error']);
const grpcRetryEvent = z.enum(['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable']);
const httpRetryEvents = z.array(httpRetryEvent).min(1).max(25); // HttpRetryPolicyEvents
const tcpRetryEvents = z.array(tcpRetryEvent).min(1).max(1); // TcpRetryPolicyEvents

const httpRoute = z.strictObject({
  action: routeAction,
  match: httpRouteMatch,
  retryPolicy: z.strictObject({
    maxRetries: z.int().min(0),
    perRetryTimeout: duration,
    httpRetryEvents: httpRetryEvents.optional(),
    tcpRetryEvents: tcpRetryEvents.optional(),
  }).optional(),
  timeout: z.strictObject({ idle: duration.optional(), perRequest: duration.optional() }).optional(),
});
export type HttpRouteSpec = z.infer<typeof httpRoute>;

const grpcRoute = z.strictObject({
  action: routeAction,
  match: z.strictObject({
    serviceName: z.string().min(1).optional(),
    methodName: z.string().min(1).max(50).optional(), // MethodName
    metadata: z.array(headerMatch).min(1).max(10).optional(),
    port: port.optional(),
  }),
  retryPolicy: z.strictObject({
    maxRetries: z.int().min(0),
    perRetryTimeout: duration,
    grpcRetryEvents: z.array(grpcRetryEvent).min(1).max(5).optional(), // GrpcRetryPolicyEvents
    httpRetryEvents: httpRetryEvents.optional(),
    tcpRetryEvents: tcpRetryEvents.optional(),
  }).optional(),
  timeout: z.strictObject({ idle: duration.optional(), perRequest: duration.optional() }).optional(),
}).superRefine((route, ctx) => {
  if (route.match.methodName !== undefined && route.match.serviceName === undefined) {
    ctx.addIssue({ code: 'custom', path: ['match', 'methodName'], message: 'needs match.serviceName as well' });
  }
});
export type GrpcRouteSpec = z.infer<typeof grpcRoute>;

const tcpRoute = z.strictObject({
  action: routeAction,
  match: z.strictObject({ port: port.optional() }).optional(),
  timeout: z.strictObject({ idle: duration.optional() }).optional(),
});
export type TcpRouteSpec = z.infer<typeof tcpRoute>;

/** `spec` of a Route: exactly one of httpRoute, http2Route, grpcRoute, tcpRoute. */
export const routeSpec = exactlyOneOf({
  httpRoute: httpRoute.optional(),
  http2Route: httpRoute.optional(),
  grpcRoute: grpcRoute.optional(),
  tcpRoute: tcpRoute.optional(),
}, { priority: z.int().min(0).max(1000).optional() });
export type RouteSpec = z.infer<typeof routeSpec>;

const gatewayTarget = z.strictObject({
  virtualService: z.strictObject({ virtualServiceName: resourceName }),
  port: port.optional(),
});

const hostnameMatch = exactlyOneOf({
  exact: z.string().min(1).max(253).optional(),
  suffix: z.string().min(1).max(253).optional(),
});

const hostnameRewrite = z.strictObject({ defaultTargetHostname: z.enum(['ENABLED', 'DISABLED']) });

const httpGatewayRoute = z.strictObject({
  action: z.strictObject({
    target: gatewayTarget,
    rewrite: z.strictObject({
      hostname: hostnameRewrite.optional(),
      path: z.strictObject({ exact: z.string().min(1).max(255) }).optional(), // HttpPathExact
      prefix: z.strictObject({
        defaultPrefix: z.enum(['ENABLED', 'DISABLED']).optional(),
        value: z.string().min(1).max(255).optional(), // HttpGatewayRoutePrefix
      }).optional(),
    }).optional(),
  }),
  match: z.strictObject({
    prefix: pathPrefix.optional(),
    path: pathMatch.optional(),
    hostname: hostnameMatch.optional(),
    headers: z.array(headerMatch).min(1).max(10).optional(),
    method: httpMethod.optional(),
    queryParameters: z.array(queryParameterMatch).min(1).max(10).optional(),
    port: port.optional(),
  }),
});
export type HttpGatewayRouteSpec = z.infer<typeof httpGatewayRoute>;

const grpcGatewayRoute = z.strictObject({
  action: z.strictObject({
    target: gatewayTarget,
    rewrite: z.strictObject({ hostname: hostnameRewrite.optional() }).optional(),
  }),
  match: z.strictObject({
    serviceName: z.string().min(1).optional(),
    hostname: hostnameMatch.optional(),
    metadata: z.array(headerMatch).min(1).max(10).optional(),
    port: port.optional(),
  }),
});
export type GrpcGatewayRouteSpec = z.infer<typeof grpcGatewayRoute>;

/** `spec` of a GatewayRoute: exactly one of httpRoute, http2Route, grpcRoute. */
export const gatewayRouteSpec = exactlyOneOf({
  httpRoute: httpGatewayRoute.optional(),
  http2Route: httpGatewayRoute.optional(),
  grpcRoute: grpcGatewayRoute.optional(),
}, { priority: z.int().min(0).max(1000).optional() });
export type GatewayRouteSpec = z.infer<typeof gatewayRouteSpec>;

/** The protocol a route serves, from which of its members is set. */
export type RouteProtocol = z.infer<typeof protocol>;
