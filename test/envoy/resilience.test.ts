import { strict as assert } from 'node:assert';
import { staticCluster } from '../../src/envoy/cluster';
import { circuitBreakers, healthCheck, outlierDetection } from '../../src/envoy/resilience';
import { validateMessage } from '../../src/xds/pgv';
import { messageType } from '../../src/xds/protos';

const Cluster = messageType('envoy.config.cluster.v3.Cluster');

/** A static cluster carrying the settings, checked against Envoy's PGV rules. */
function validCluster(settings: Partial<Parameters<typeof staticCluster>[0]>): Record<string, unknown> {
  const cluster = staticCluster({ name: 'local', http2: false, endpoints: [{ host: '127.0.0.1', port: 8080 }], ...settings });
  assert.deepEqual(validateMessage(Cluster, cluster), []);
  // Every field name is one Envoy's proto knows: it survives encoding unchanged.
  const decoded = Cluster.toObject(Cluster.decode(Cluster.encode(Cluster.fromObject(cluster)).finish()), { enums: String, longs: Number });
  for (const field of ['circuitBreakers', 'outlierDetection', 'healthChecks', 'loadAssignment'] as const) assert.deepEqual(decoded[field], cluster[field], field);
  return cluster;
}

describe('envoy/resilience builders', () => {
  it('circuit breakers of each pool block are valid DEFAULT-priority thresholds', () => {
    const pools = [{ http: { maxConnections: 1 } }, { http2: { maxRequests: 1 } }, { grpc: { maxRequests: 1 } }, { tcp: { maxConnections: 1 } }];
    for (const pool of pools) {
      const cluster = validCluster({ circuitBreakers: circuitBreakers(pool) });
      assert.equal((cluster.circuitBreakers as { thresholds: { priority: string }[] }).thresholds[0]!.priority, 'DEFAULT');
    }
  });

  it('outlier detection at the bounds App Mesh allows is valid', () => {
    const rows = [
      { maxServerErrors: 1, interval: { value: 1, unit: 'ms' as const }, baseEjectionDuration: { value: 1, unit: 'ms' as const }, maxEjectionPercent: 0 },
      { maxServerErrors: 1000, interval: { value: 3600, unit: 's' as const }, baseEjectionDuration: { value: 86400, unit: 's' as const }, maxEjectionPercent: 100 },
    ];
    for (const row of rows) validCluster({ outlierDetection: outlierDetection(row) });
    assert.equal(outlierDetection(rows[0]!).maxEjectionTime, undefined);
    assert.deepEqual(outlierDetection(rows[1]!).maxEjectionTime, { seconds: 86400, nanos: 0 });
  });

  it('health checks of every protocol are valid; gRPC needs an HTTP/2 cluster', () => {
    const base = { intervalMillis: 5000, timeoutMillis: 2000, healthyThreshold: 2, unhealthyThreshold: 10 };
    for (const protocol of ['http', 'http2', 'grpc', 'tcp'] as const) {
      for (const http2 of [false, true]) validCluster({ http2, healthChecks: [healthCheck({ ...base, protocol }, http2)] });
    }
    assert.ok('grpcHealthCheck' in healthCheck({ ...base, protocol: 'grpc' }, true));
    assert.ok('tcpHealthCheck' in healthCheck({ ...base, protocol: 'grpc' }, false));
    assert.deepEqual(healthCheck({ ...base, protocol: 'http', path: '' }, false).httpHealthCheck, { path: '/' });
  });
});
