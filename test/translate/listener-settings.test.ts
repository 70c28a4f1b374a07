// Table-driven: a virtual-node listener's timeout (ingress route / tcp_proxy), connectionPool
// (circuit breakers on the ingress cluster), healthCheck (active checks of the local application)
// and outlierDetection (on every caller's egress cluster reaching the listener). Every
// translation also passes the generic PGV and consistency checks (checkedTranslation).
import { strict as assert } from 'node:assert';
import { baseMesh, doc, model, setIn, type SpecFiles } from '../model/fixtures';
import type { Protocol } from '../../src/model/types';
import { checkedTranslation, clusterOf, listenerOf, routeOf, type Msg } from './helpers';

const A = 'mesh/m/virtualNode/a';
const B = 'mesh/m/virtualNode/b';
const G = 'mesh/m/virtualGateway/g';

/** baseMesh with b's listener (and the router and route reaching it) on `protocol`. */
function meshWith(protocol: Protocol, listener: Record<string, unknown> = {}): SpecFiles {
  const files = baseMesh();
  const b = doc(files, 'b');
  setIn(b, 'spec.listeners.0.portMapping.protocol', protocol);
  for (const [key, value] of Object.entries(listener)) setIn(b, `spec.listeners.0.${key}`, value);
  setIn(doc(files, 'r'), 'spec.listeners.0.portMapping.protocol', protocol);
  const action = { weightedTargets: [{ virtualNode: 'b', weight: 1 }] };
  const spec = protocol === 'tcp' ? { tcpRoute: { action } }
    : protocol === 'grpc' ? { grpcRoute: { match: { serviceName: 'svc' }, action } }
      : { [`${protocol === 'http' ? 'http' : 'http2'}Route`]: { match: { prefix: '/' }, action } };
  setIn(doc(files, 'rt'), 'spec', spec);
  if (protocol !== 'http') {
    // The gateway only fronts HTTP-family services of its own protocol: keep it out of the way.
    const gateway = files['gateway.yaml']!;
    gateway.splice(0, gateway.length);
  }
  return files;
}

const seconds = (s: number, nanos = 0): Msg => ({ seconds: s, nanos });

describe('translate/listener-settings: timeout', () => {
  const rows: { name: string; protocol: Protocol; timeout?: unknown; perRequest?: Msg; idle?: Msg }[] = [
    { name: 'http without a timeout: App Mesh\'s 15 s per request, no route idle timeout', protocol: 'http', perRequest: seconds(15) },
    {
      name: 'http perRequest and idle: route timeout and idle_timeout', protocol: 'http',
      timeout: { http: { perRequest: { value: 3, unit: 's' }, idle: { value: 1500, unit: 'ms' } } }, perRequest: seconds(3), idle: seconds(1, 500_000_000),
    },
    { name: 'http2 idle only: 15 s default per request kept', protocol: 'http2', timeout: { http2: { idle: { value: 120, unit: 's' } } }, perRequest: seconds(15), idle: seconds(120) },
    { name: 'grpc perRequest 0 disables the request timeout (long streams)', protocol: 'grpc', timeout: { grpc: { perRequest: { value: 0, unit: 's' } } }, perRequest: seconds(0) },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const r = checkedTranslation(model(meshWith(row.protocol, row.timeout ? { timeout: row.timeout } : {})), B);
      const action = routeOf(r, `rds_ingress_m_b_${row.protocol}_9090`).virtualHosts[0].routes[0].route;
      assert.equal(action.cluster, `cds_ingress_m_b_${row.protocol}_9090`);
      assert.deepEqual(action.timeout, row.perRequest);
      assert.deepEqual(action.idleTimeout, row.idle);
    });
  }

  const tcpRows: { name: string; timeout?: unknown; idle?: Msg }[] = [
    { name: 'tcp idle: tcp_proxy idle_timeout', timeout: { tcp: { idle: { value: 90, unit: 's' } } }, idle: seconds(90) },
    { name: 'tcp without a timeout: Envoy\'s tcp_proxy default', idle: undefined },
  ];
  for (const row of tcpRows) {
    it(row.name, () => {
      const r = checkedTranslation(model(meshWith('tcp', row.timeout ? { timeout: row.timeout } : {})), B);
      const proxy = listenerOf(r, 'lds_ingress_0.0.0.0_15100').filterChains[0].filters[0].typedConfig;
      assert.equal(proxy.cluster, 'cds_ingress_m_b_tcp_9090');
      assert.deepEqual(proxy.idleTimeout, row.idle);
    });
  }
});

describe('translate/listener-settings: connectionPool', () => {
  const rows: { name: string; protocol: Protocol; pool: unknown; thresholds: Msg }[] = [
    {
      name: 'http: connections, pending requests, and requests bounded by the connections', protocol: 'http',
      pool: { http: { maxConnections: 50, maxPendingRequests: 10 } },
      thresholds: { priority: 'DEFAULT', maxConnections: { value: 50 }, maxPendingRequests: { value: 10 }, maxRequests: { value: 50 } },
    },
    {
      name: 'http without maxPendingRequests: App Mesh\'s default 2147483647', protocol: 'http',
      pool: { http: { maxConnections: 2000 } },
      thresholds: { priority: 'DEFAULT', maxConnections: { value: 2000 }, maxPendingRequests: { value: 2147483647 }, maxRequests: { value: 2000 } },
    },
    { name: 'http2: max requests (streams)', protocol: 'http2', pool: { http2: { maxRequests: 300 } }, thresholds: { priority: 'DEFAULT', maxRequests: { value: 300 } } },
    { name: 'grpc: max requests (streams)', protocol: 'grpc', pool: { grpc: { maxRequests: 40 } }, thresholds: { priority: 'DEFAULT', maxRequests: { value: 40 } } },
    { name: 'tcp: max connections', protocol: 'tcp', pool: { tcp: { maxConnections: 7 } }, thresholds: { priority: 'DEFAULT', maxConnections: { value: 7 } } },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const m = model(meshWith(row.protocol, { connectionPool: row.pool }));
      const ingress = clusterOf(checkedTranslation(m, B), `cds_ingress_m_b_${row.protocol}_9090`);
      assert.deepEqual(ingress.circuitBreakers, { thresholds: [row.thresholds] });
      // Inbound only: the caller's cluster to b keeps Envoy's default thresholds.
      assert.equal(clusterOf(checkedTranslation(m, A), `cds_egress_m_b_${row.protocol}_9090`).circuitBreakers, undefined);
    });
  }

  it('no connectionPool: no circuit breakers on the ingress cluster', () => {
    assert.equal(clusterOf(checkedTranslation(model(meshWith('http')), B), 'cds_ingress_m_b_http_9090').circuitBreakers, undefined);
  });
});

describe('translate/listener-settings: healthCheck', () => {
  const base = { intervalMillis: 5000, timeoutMillis: 2000, healthyThreshold: 2, unhealthyThreshold: 3 };
  const rows: { name: string; protocol: Protocol; check: Record<string, unknown>; kind: Msg }[] = [
    { name: 'http: HTTP GET on the path', protocol: 'http', check: { protocol: 'http', path: '/ping' }, kind: { httpHealthCheck: { path: '/ping' } } },
    { name: 'http without a path: "/"', protocol: 'http', check: { protocol: 'http' }, kind: { httpHealthCheck: { path: '/' } } },
    { name: 'http2: HTTP/2 codec', protocol: 'http2', check: { protocol: 'http2', path: '/ping' }, kind: { httpHealthCheck: { path: '/ping', codecClientType: 'HTTP2' } } },
    { name: 'grpc on a gRPC application: grpc.health.v1', protocol: 'grpc', check: { protocol: 'grpc' }, kind: { grpcHealthCheck: {} } },
    { name: 'grpc on an HTTP/1.1 application: TCP connect (Envoy refuses gRPC checks without HTTP/2)', protocol: 'http', check: { protocol: 'grpc' }, kind: { tcpHealthCheck: {} } },
    { name: 'tcp: connect check', protocol: 'tcp', check: { protocol: 'tcp' }, kind: { tcpHealthCheck: {} } },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const m = model(meshWith(row.protocol, { healthCheck: { ...base, ...row.check } }));
      const cluster = clusterOf(checkedTranslation(m, B), `cds_ingress_m_b_${row.protocol}_9090`);
      assert.deepEqual(cluster.healthChecks, [{
        timeout: seconds(2), interval: seconds(5), noTrafficInterval: seconds(5),
        healthyThreshold: { value: 2 }, unhealthyThreshold: { value: 3 }, ...row.kind,
      }]);
      const endpoint = cluster.loadAssignment.endpoints[0].lbEndpoints[0].endpoint;
      assert.deepEqual(endpoint.address.socketAddress, { address: '127.0.0.1', portValue: 9090 });
      assert.equal(endpoint.healthCheckConfig, undefined, 'checks reach the application on its listener port');
      // The application's own Envoy checks it; callers do not.
      assert.equal(clusterOf(checkedTranslation(m, A), `cds_egress_m_b_${row.protocol}_9090`).healthChecks, undefined);
    });
  }

  it('a health check port equal to the listener port adds nothing to the endpoint', () => {
    const m = model(meshWith('http', { healthCheck: { ...base, protocol: 'http', path: '/', port: 9090 } }));
    const endpoint = clusterOf(checkedTranslation(m, B), 'cds_ingress_m_b_http_9090').loadAssignment.endpoints[0].lbEndpoints[0].endpoint;
    assert.equal(endpoint.healthCheckConfig, undefined);
  });
});

describe('translate/listener-settings: outlierDetection', () => {
  const rows: { name: string; protocol: Protocol; detection: unknown; expected: Msg }[] = [
    {
      name: 'http: consecutive 5xx, sweep interval, base ejection, max percent; success rate off', protocol: 'http',
      detection: { maxServerErrors: 5, interval: { value: 10, unit: 's' }, baseEjectionDuration: { value: 30, unit: 's' }, maxEjectionPercent: 50 },
      expected: { consecutive_5xx: { value: 5 }, interval: seconds(10), baseEjectionTime: seconds(30), maxEjectionPercent: { value: 50 }, enforcingSuccessRate: { value: 0 } },
    },
    {
      name: 'milliseconds, and a base ejection above 300 s raises max_ejection_time to it', protocol: 'grpc',
      detection: { maxServerErrors: 1, interval: { value: 500, unit: 'ms' }, baseEjectionDuration: { value: 600000, unit: 'ms' }, maxEjectionPercent: 100 },
      expected: {
        consecutive_5xx: { value: 1 }, interval: seconds(0, 500_000_000), baseEjectionTime: seconds(600), maxEjectionPercent: { value: 100 },
        enforcingSuccessRate: { value: 0 }, maxEjectionTime: seconds(600),
      },
    },
    {
      name: 'tcp: connection failures count as server errors', protocol: 'tcp',
      detection: { maxServerErrors: 3, interval: { value: 1, unit: 's' }, baseEjectionDuration: { value: 5, unit: 's' }, maxEjectionPercent: 0 },
      expected: { consecutive_5xx: { value: 3 }, interval: seconds(1), baseEjectionTime: seconds(5), maxEjectionPercent: { value: 0 }, enforcingSuccessRate: { value: 0 } },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const m = model(meshWith(row.protocol, { outlierDetection: row.detection }));
      assert.deepEqual(clusterOf(checkedTranslation(m, A), `cds_egress_m_b_${row.protocol}_9090`).outlierDetection, row.expected);
      // The server's own ingress cluster (its one local application) is not ejected from.
      assert.equal(clusterOf(checkedTranslation(m, B), `cds_ingress_m_b_${row.protocol}_9090`).outlierDetection, undefined);
    });
  }

  it('every caller of the listener gets it (node and gateway); a cluster to another node does not', () => {
    const files = meshWith('http', {
      outlierDetection: { maxServerErrors: 2, interval: { value: 1, unit: 's' }, baseEjectionDuration: { value: 10, unit: 's' }, maxEjectionPercent: 20 },
    });
    files['nodes.yaml']!.push({
      kind: 'VirtualNode', meshName: 'm', virtualNodeName: 'c',
      spec: { listeners: [{ portMapping: { port: 9090, protocol: 'http' } }], serviceDiscovery: { dns: { hostname: 'c.m.local' } } },
      meshd: { ingressPort: 15200, egressPort: 15201, adminPort: 9921 },
    });
    setIn(doc(files, 'rt'), 'spec.httpRoute.action.weightedTargets', [{ virtualNode: 'b', weight: 90 }, { virtualNode: 'c', weight: 10 }]);
    const m = model(files);
    for (const caller of [A, G]) {
      const r = checkedTranslation(m, caller);
      assert.deepEqual(clusterOf(r, 'cds_egress_m_b_http_9090').outlierDetection?.consecutive_5xx, { value: 2 }, caller);
      assert.equal(clusterOf(r, 'cds_egress_m_c_http_9090').outlierDetection, undefined, caller);
    }
  });

  it('a proxyless caller gets none: gRPC implements only success-rate and failure-percentage ejection (gRFC A50)', () => {
    const files = meshWith('grpc', {
      outlierDetection: { maxServerErrors: 2, interval: { value: 1, unit: 's' }, baseEjectionDuration: { value: 10, unit: 's' }, maxEjectionPercent: 20 },
    });
    setIn(doc(files, 'a'), 'meshd', { proxyless: true });
    setIn(doc(files, 'a'), 'spec.listeners.0.portMapping.protocol', 'grpc');
    const r = checkedTranslation(model(files), A);
    assert.equal(clusterOf(r, 'cds_egress_m_b_grpc_9090').outlierDetection, undefined);
  });
});
