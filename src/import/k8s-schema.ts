// The App Mesh controller's CRD schemas (appmesh.k8s.aws/v1beta2), as far as the import needs them:
// which fields each resource's spec has. A field the schema lacks is dropped, as Kubernetes prunes
// unknown fields of a structural schema, and the import warns, since its author meant something.
// Written from the controller's CRD reference (config/crd/bases), not copied from it.
import { isSourceMap, type SourceValue } from './yaml-source';

/** A field's shape: a leaf (any scalar or list of scalars), a free-form value, a mapping, or a list of one shape. */
export type Shape = 'leaf' | 'free' | { readonly [field: string]: Shape } | readonly [Shape];

const ref: Shape = { name: 'leaf', namespace: 'leaf' };
const meshRef: Shape = { name: 'leaf', uid: 'leaf' };
const duration: Shape = { unit: 'leaf', value: 'leaf' };
const portMapping: Shape = { port: 'leaf', protocol: 'leaf' };
const trust: Shape = { acm: { certificateAuthorityARNs: 'leaf' }, file: { certificateChain: 'leaf' }, sds: { secretName: 'leaf' } };
const validation: Shape = { trust, subjectAlternativeNames: { match: { exact: 'leaf' } } };
const clientPolicy: Shape = {
  tls: { enforce: 'leaf', ports: 'leaf', certificate: { file: { certificateChain: 'leaf', privateKey: 'leaf' }, sds: { secretName: 'leaf' } }, validation },
};
const listenerTls: Shape = { mode: 'leaf', certificate: { acm: { certificateARN: 'leaf' }, file: { certificateChain: 'leaf', privateKey: 'leaf' }, sds: { secretName: 'leaf' } }, validation };
const healthCheck: Shape = {
  healthyThreshold: 'leaf', intervalMillis: 'leaf', path: 'leaf', port: 'leaf', protocol: 'leaf', timeoutMillis: 'leaf', unhealthyThreshold: 'leaf',
};
const httpTimeout: Shape = { idle: duration, perRequest: duration };
const connectionPool: Shape = {
  tcp: { maxConnections: 'leaf' }, http: { maxConnections: 'leaf', maxPendingRequests: 'leaf' }, http2: { maxRequests: 'leaf' }, grpc: { maxRequests: 'leaf' },
};
const logging: Shape = { accessLog: { file: { path: 'leaf', format: { json: [{ key: 'leaf', value: 'leaf' }], text: 'leaf' } } } };
const headerMatch: Shape = { exact: 'leaf', prefix: 'leaf', range: { start: 'leaf', end: 'leaf' }, regex: 'leaf', suffix: 'leaf' };
const headers: Shape = [{ name: 'leaf', invert: 'leaf', match: headerMatch }];
const queryParameters: Shape = [{ name: 'leaf', match: { exact: 'leaf' } }];
const weightedTargets: Shape = [{ virtualNodeRef: ref, virtualNodeARN: 'leaf', weight: 'leaf', port: 'leaf' }];
const retryPolicy: Shape = { httpRetryEvents: 'leaf', tcpRetryEvents: 'leaf', grpcRetryEvents: 'leaf', maxRetries: 'leaf', perRetryTimeout: duration };
const httpRoute: Shape = {
  match: { prefix: 'leaf', path: { exact: 'leaf', regex: 'leaf' }, headers, method: 'leaf', scheme: 'leaf', queryParameters, port: 'leaf' },
  action: { weightedTargets }, retryPolicy, timeout: httpTimeout,
};
const grpcRoute: Shape = {
  match: { serviceName: 'leaf', methodName: 'leaf', metadata: headers, port: 'leaf' },
  action: { weightedTargets }, retryPolicy, timeout: httpTimeout,
};
const route: Shape = {
  name: 'leaf', priority: 'leaf', httpRoute, http2Route: httpRoute, grpcRoute,
  tcpRoute: { action: { weightedTargets }, match: { port: 'leaf' }, timeout: { idle: duration } },
};
const gatewayTarget: Shape = { target: { virtualService: { virtualServiceRef: ref, virtualServiceARN: 'leaf' }, port: 'leaf' } };
const gatewayHttpRoute: Shape = {
  match: { prefix: 'leaf', path: { exact: 'leaf', regex: 'leaf' }, headers, method: 'leaf', queryParameters, hostname: { exact: 'leaf', suffix: 'leaf' }, port: 'leaf' },
  action: { ...gatewayTarget, rewrite: { prefix: { defaultPrefix: 'leaf', value: 'leaf' }, hostname: { defaultTargetHostname: 'leaf' }, path: { exact: 'leaf' } } },
};

/** The spec of each kind the import reads. */
export const specShapes: Readonly<Record<string, Shape>> = {
  Mesh: { awsName: 'leaf', namespaceSelector: 'free', egressFilter: { type: 'leaf' }, serviceDiscovery: { ipPreference: 'leaf' }, meshOwner: 'leaf' },
  VirtualNode: {
    awsName: 'leaf', podSelector: 'free', meshRef,
    listeners: [{ portMapping, healthCheck, outlierDetection: { maxServerErrors: 'leaf', interval: duration, baseEjectionDuration: duration, maxEjectionPercent: 'leaf' }, tls: listenerTls, timeout: { tcp: { idle: duration }, http: httpTimeout, http2: httpTimeout, grpc: httpTimeout }, connectionPool }],
    serviceDiscovery: {
      awsCloudMap: { namespaceName: 'leaf', serviceName: 'leaf', attributes: [{ key: 'leaf', value: 'leaf' }], ipPreference: 'leaf' },
      dns: { hostname: 'leaf', responseType: 'leaf', ipPreference: 'leaf' },
    },
    backends: [{ virtualService: { virtualServiceRef: ref, virtualServiceARN: 'leaf', clientPolicy } }],
    backendGroups: [ref],
    backendDefaults: { clientPolicy },
    logging,
  },
  VirtualService: {
    awsName: 'leaf', meshRef,
    provider: { virtualNode: { virtualNodeRef: ref, virtualNodeARN: 'leaf' }, virtualRouter: { virtualRouterRef: ref, virtualRouterARN: 'leaf' } },
  },
  VirtualRouter: { awsName: 'leaf', meshRef, listeners: [{ portMapping }], routes: [route] },
  VirtualGateway: {
    awsName: 'leaf', meshRef, namespaceSelector: 'free', podSelector: 'free', gatewayRouteSelector: 'free',
    listeners: [{ portMapping, healthCheck, connectionPool: { http: connectionPool.http, http2: connectionPool.http2, grpc: connectionPool.grpc }, tls: listenerTls }],
    backendDefaults: { clientPolicy }, logging,
  },
  GatewayRoute: {
    awsName: 'leaf', meshRef, priority: 'leaf', virtualGatewayRef: { name: 'leaf', namespace: 'leaf', uid: 'leaf' },
    httpRoute: gatewayHttpRoute, http2Route: gatewayHttpRoute,
    grpcRoute: { match: { serviceName: 'leaf', hostname: { exact: 'leaf', suffix: 'leaf' }, metadata: headers, port: 'leaf' }, action: { ...gatewayTarget, rewrite: { hostname: { defaultTargetHostname: 'leaf' } } } },
  },
  BackendGroup: { virtualservices: [ref], meshRef },
};

/** `value` without the fields `shape` lacks; `onUnknown` is told the path of each one dropped. */
export function pruneToShape(value: SourceValue, shape: Shape, path: string, onUnknown: (path: string) => void): SourceValue {
  if (shape === 'leaf' || shape === 'free') return value;
  if (Array.isArray(shape)) {
    return Array.isArray(value) ? value.map((item, index) => pruneToShape(item, shape[0]!, `${path}[${index}]`, onUnknown)) : value;
  }
  if (!isSourceMap(value)) return value;
  const fields = shape as { readonly [field: string]: Shape };
  const out: Record<string, SourceValue> = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = `${path}.${key}`;
    const childShape = fields[key];
    if (childShape === undefined) onUnknown(childPath);
    else out[key] = pruneToShape(child, childShape, childPath, onUnknown);
  }
  return out;
}
