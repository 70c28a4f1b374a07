// Every xDS type URL meshd speaks, in one table. The order of WARMING_ORDER is the order in which
// a change is pushed on one ADS stream: a cluster before its endpoints, a listener before its route
// configuration, and secrets before the listeners and clusters that need them.
export const TypeUrl = {
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RouteConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** Push order on one stream when several types change at once. */
export const WARMING_ORDER: readonly TypeUrl[] = [
  TypeUrl.Secret,
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
];

/**
 * Parent types whose resources name resources of a child type: a Cluster its
 * ClusterLoadAssignment (EDS), a Listener its RouteConfiguration (RDS). A client learns which
 * children to subscribe to from its parents.
 */
export const CHILD_TYPE: ReadonlyMap<string, TypeUrl> = new Map([
  [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment],
  [TypeUrl.Listener, TypeUrl.RouteConfiguration],
]);

/**
 * Parent types whose update must be followed by their children again, changed or not. Envoy
 * finishes warming an updated cluster only when it receives its ClusterLoadAssignment anew
 * ("Warming of Cluster is completed only when a new ClusterLoadAssignment response is supplied
 * ... even though there is no change in endpoints"); a listener reuses a route configuration it
 * already has, so RDS needs no resend.
 */
export const RESEND_CHILDREN_ON_UPDATE: ReadonlySet<string> = new Set([TypeUrl.Cluster]);

/**
 * Types whose empty resource_names means "everything" (state-of-the-world wildcard), and whose
 * responses are complete: a resource missing from a response has been removed.
 */
const WILDCARD_TYPES: ReadonlySet<string> = new Set([TypeUrl.Cluster, TypeUrl.Listener]);

export function isTypeUrl(value: string): value is TypeUrl {
  return (Object.values(TypeUrl) as string[]).includes(value);
}

export function isWildcardType(typeUrl: string): boolean {
  return WILDCARD_TYPES.has(typeUrl);
}

/** The protobuf message name inside a type URL (`envoy.config.cluster.v3.Cluster`). */
export function messageNameOf(typeUrl: string): string {
  const slash = typeUrl.lastIndexOf('/');
  return slash >= 0 ? typeUrl.slice(slash + 1) : typeUrl;
}

/** Short names used in logs and metrics. */
export function shortTypeName(typeUrl: string): string {
  switch (typeUrl) {
    case TypeUrl.Cluster: return 'CDS';
    case TypeUrl.ClusterLoadAssignment: return 'EDS';
    case TypeUrl.Listener: return 'LDS';
    case TypeUrl.RouteConfiguration: return 'RDS';
    case TypeUrl.Secret: return 'SDS';
    default: return messageNameOf(typeUrl);
  }
}
