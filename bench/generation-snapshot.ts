// The configuration the bench pushes: generation g of a small service's clusters and their
// endpoints. Every generation changes each cluster's content (timeouts, circuit breakers) and
// each endpoint port, so every push is a real change with a new content version. One Snapshot per
// generation is shared by all nodes, as meshd shares identical resources between proxies.
import { Snapshot, type ResourceInput } from '../src/cache/snapshot';
import { TypeUrl } from '../src/xds/type-urls';

/** How many clusters (and load assignments) each generation has. */
export const CLUSTERS_PER_SNAPSHOT = 8;

function cluster(name: string, generation: number): ResourceInput {
  return {
    name,
    message: {
      name,
      type: 'EDS',
      connectTimeout: { seconds: 1, nanos: (generation % 1000) * 1_000_000 },
      edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' } },
      lbPolicy: 'LEAST_REQUEST',
      circuitBreakers: { thresholds: [{ maxConnections: { value: 1024 + generation }, maxPendingRequests: { value: 1024 }, maxRequests: { value: 4096 } }] },
      outlierDetection: { consecutive_5xx: { value: 5 }, interval: { seconds: 10 }, baseEjectionTime: { seconds: 30 } },
    },
  };
}

function loadAssignment(clusterName: string, index: number, generation: number): ResourceInput {
  return {
    name: clusterName,
    message: {
      clusterName,
      endpoints: [{
        lbEndpoints: [0, 1, 2].map((replica) => ({
          endpoint: { address: { socketAddress: { address: `10.0.${index}.${replica + 1}`, portValue: 8000 + (generation % 1000) } } },
        })),
      }],
    },
  };
}

/** Generation g's resources as objects (the translation's output): a few EDS clusters whose content depends on g, plus matching EDS. */
export function generationResources(generation: number): Record<string, ResourceInput[]> {
  const names = Array.from({ length: CLUSTERS_PER_SNAPSHOT }, (_, i) => `bench-service-${i}`);
  return {
    [TypeUrl.Cluster]: names.map((name) => cluster(name, generation)),
    [TypeUrl.ClusterLoadAssignment]: names.map((name, i) => loadAssignment(name, i, generation)),
  };
}

/** Generation g, encoded: CDS with a few EDS clusters whose content depends on g, plus matching EDS. */
export function generationSnapshot(generation: number): Snapshot {
  return Snapshot.fromResources(generationResources(generation));
}

/** The node id (and snapshot key) of the i-th simulated proxy. */
export function benchNodeId(index: number): string {
  return `mesh/bench/virtualNode/n${index}`;
}
