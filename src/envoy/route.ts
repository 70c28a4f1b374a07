// Builders of Envoy route messages (RouteConfiguration, VirtualHost, Route, its match and action)
// from App Mesh route and gateway route specs.
import type { ProtoObject } from './types';
import type { WeightedCluster } from './listener';
import type { Duration, GrpcRouteMatch, HeaderMatch, HttpRouteMatch, RetryPolicyModel } from '../model/types';

/** An App Mesh Duration as a protobuf Duration. */
export function durationOf(duration: Duration): ProtoObject {
  const millis = duration.unit === 's' ? duration.value * 1000 : duration.value;
  return { seconds: Math.floor(millis / 1000), nanos: (millis % 1000) * 1e6 };
}

/** A RouteConfiguration. */
export function routeConfiguration(name: string, virtualHosts: readonly ProtoObject[]): ProtoObject {
  return { name, virtualHosts: [...virtualHosts] };
}

/** A VirtualHost serving `domains`. */
export function virtualHost(name: string, domains: readonly string[], routes: readonly ProtoObject[]): ProtoObject {
  return { name, domains: [...domains], routes: [...routes] };
}

function stringMatcher(match: NonNullable<HeaderMatch['match']>): ProtoObject {
  if (match.exact !== undefined) return { exact: match.exact };
  if (match.prefix !== undefined) return { prefix: match.prefix };
  if (match.suffix !== undefined) return { suffix: match.suffix };
  return { safeRegex: { regex: match.regex! } };
}

/** An App Mesh header (or gRPC metadata) match as an Envoy HeaderMatcher. */
export function headerMatcher(header: HeaderMatch): ProtoObject {
  const invert: ProtoObject = header.invert ? { invertMatch: true } : {};
  const match = header.match;
  if (!match) return { name: header.name, presentMatch: true, ...invert };
  if (match.range) return { name: header.name, rangeMatch: { start: match.range.start, end: match.range.end }, ...invert };
  return { name: header.name, stringMatch: stringMatcher(match), ...invert };
}

type HttpMatch = HttpRouteMatch;

function pathSpecifier(match: { prefix?: string | undefined; path?: { exact?: string | undefined; regex?: string | undefined } | undefined }): ProtoObject {
  if (match.path?.exact !== undefined) return { path: match.path.exact };
  if (match.path?.regex !== undefined) return { safeRegex: { regex: match.path.regex } };
  return { prefix: match.prefix ?? '/' };
}

/** An HTTP (or HTTP/2) route match: path, headers, method, scheme and query parameters. */
export function httpRouteMatch(match: HttpMatch): ProtoObject {
  const headers = (match.headers ?? []).map(headerMatcher);
  if (match.method) headers.push({ name: ':method', stringMatch: { exact: match.method } });
  if ('scheme' in match && match.scheme) headers.push({ name: ':scheme', stringMatch: { exact: match.scheme } });
  const queryParameters = (match.queryParameters ?? []).map((parameter): ProtoObject => (parameter.match
    ? { name: parameter.name, stringMatch: { exact: parameter.match.exact } }
    : { name: parameter.name, presentMatch: true }));
  return {
    ...pathSpecifier(match),
    ...(headers.length > 0 ? { headers } : {}),
    ...(queryParameters.length > 0 ? { queryParameters } : {}),
  };
}

/** A gRPC route match: `/<service>/<method>` path, or the service's prefix, plus metadata. */
export function grpcRouteMatch(match: GrpcRouteMatch): ProtoObject {
  const path: ProtoObject = match.serviceName === undefined
    ? { prefix: '/' }
    : 'methodName' in match && match.methodName !== undefined
      ? { path: `/${match.serviceName}/${match.methodName}` }
      : { prefix: `/${match.serviceName}/` };
  const headers = (match.metadata ?? []).map(headerMatcher);
  return { ...path, ...(headers.length > 0 ? { headers } : {}), grpc: {} };
}

const HTTP_RETRY_ON: Readonly<Record<string, string>> = {
  'server-error': '5xx',
  'gateway-error': 'gateway-error',
  'client-error': 'retriable-4xx',
  'stream-error': 'refused-stream',
};
const TCP_RETRY_ON: Readonly<Record<string, string>> = { 'connection-error': 'connect-failure' };

/** An App Mesh retry policy as an Envoy RetryPolicy; undefined when it retries on nothing. */
export function retryPolicy(policy: RetryPolicyModel): ProtoObject | undefined {
  const events = new Set<string>();
  for (const event of policy.httpRetryEvents ?? []) events.add(HTTP_RETRY_ON[event]!);
  for (const event of policy.tcpRetryEvents ?? []) events.add(TCP_RETRY_ON[event]!);
  if ('grpcRetryEvents' in policy) for (const event of policy.grpcRetryEvents ?? []) events.add(event);
  if (events.size === 0) return undefined;
  return {
    retryOn: [...events].sort().join(','),
    numRetries: { value: policy.maxRetries },
    perTryTimeout: durationOf(policy.perRetryTimeout),
  };
}

/** Options of a route action besides its clusters. */
export interface RouteActionOptions {
  readonly timeout?: { idle?: Duration | undefined; perRequest?: Duration | undefined } | undefined;
  readonly retryPolicy?: ProtoObject | undefined;
  readonly hostRewriteLiteral?: string;
  readonly prefixRewrite?: string;
  readonly pathRewrite?: string;
}

/** A RouteAction to one cluster or to weighted clusters (weights as given; zero weights kept). */
export function routeAction(clusters: readonly WeightedCluster[], options: RouteActionOptions = {}): ProtoObject {
  const target: ProtoObject = clusters.length === 1
    ? { cluster: clusters[0]!.name }
    : { weightedClusters: { clusters: clusters.map((c) => ({ name: c.name, weight: { value: c.weight } })) } };
  return {
    ...target,
    ...(options.timeout?.perRequest ? { timeout: durationOf(options.timeout.perRequest) } : {}),
    ...(options.timeout?.idle ? { idleTimeout: durationOf(options.timeout.idle) } : {}),
    ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
    ...(options.hostRewriteLiteral ? { hostRewriteLiteral: options.hostRewriteLiteral } : {}),
    ...(options.prefixRewrite ? { prefixRewrite: options.prefixRewrite } : {}),
    ...(options.pathRewrite ? { regexRewrite: { pattern: { regex: '^.*$' }, substitution: options.pathRewrite } } : {}),
  };
}

/** A Route. */
export function route(name: string, match: ProtoObject, action: ProtoObject): ProtoObject {
  return { name, match, route: action };
}
