// Builder of Envoy ClusterLoadAssignment messages (EDS resources and inline load assignments).
import type { ProtoObject } from './types';

/** A host and port an endpoint listens on. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** A ClusterLoadAssignment for `clusterName` with one locality holding `endpoints` (may be empty). */
export function clusterLoadAssignment(clusterName: string, endpoints: readonly HostPort[]): ProtoObject {
  if (endpoints.length === 0) return { clusterName };
  return {
    clusterName,
    endpoints: [{
      lbEndpoints: endpoints.map((endpoint) => ({
        endpoint: {
          address: { socketAddress: { address: endpoint.host, portValue: endpoint.port } },
        },
      })),
    }],
  };
}
