// Table-driven: egress routing (HTTP by Host, TCP by port), egress cluster kinds, ingress
// clusters and listeners, gateways, access logs, and snapshot reuse across re-translation.
import { strict as assert } from 'node:assert';
import { baseMesh, doc, model, setIn, type SpecFiles } from '../model/fixtures';
import { translateMesh } from '../../src/translate';
import { sdsSecretsNeeded } from '../../src/translate/translate';
import { TypeUrl } from '../../src/xds/type-urls';
import { checkedTranslation, clusterOf, hcmOf, listenerOf, namesOf, routeOf, withCredential, type Msg } from './helpers';

const A = 'mesh/m/virtualNode/a';
const B = 'mesh/m/virtualNode/b';
const G = 'mesh/m/virtualGateway/g';

function nodeC(files: SpecFiles, extra: Record<string, unknown> = {}): void {
  files['nodes.yaml']!.push({
    kind: 'VirtualNode', meshName: 'm', virtualNodeName: 'c',
    spec: { listeners: [{ portMapping: { port: 9090, protocol: 'http' } }], serviceDiscovery: { dns: { hostname: 'c.m.local', responseType: 'ENDPOINTS' } } },
    meshd: { ingressPort: 15200, egressPort: 15201, adminPort: 9921 }, ...extra,
  });
}

describe('translate/routing: egress', () => {
  it('routes by Host with the router route matches, weights, timeout and retries', () => {
    const files = baseMesh();
    nodeC(files);
    setIn(doc(files, 'rt'), 'spec.httpRoute', {
      match: { prefix: '/api', headers: [{ name: 'x-canary', match: { exact: 'yes' } }, { name: 'x-debug', invert: true }], method: 'POST' },
      action: { weightedTargets: [{ virtualNode: 'b', weight: 90 }, { virtualNode: 'c', weight: 10 }] },
      timeout: { perRequest: { unit: 's', value: 3 }, idle: { unit: 'ms', value: 1500 } },
      retryPolicy: { maxRetries: 3, perRetryTimeout: { unit: 'ms', value: 250 }, httpRetryEvents: ['server-error'], tcpRetryEvents: ['connection-error'] },
    });
    const r = checkedTranslation(model(files), A);
    const egress = listenerOf(r, 'lds_egress_0.0.0.0_15001');
    assert.equal(egress.statPrefix, '0.0.0.0_15001');
    assert.equal(hcmOf(egress.filterChains[0]).rds.routeConfigName, 'rds_egress_http_15001');
    const host = routeOf(r, 'rds_egress_http_15001').virtualHosts[0];
    assert.deepEqual(host.domains, ['svc-b', 'svc-b:9090']);
    const [envoyRoute] = host.routes;
    assert.deepEqual(envoyRoute.match, {
      prefix: '/api',
      headers: [
        { name: 'x-canary', stringMatch: { exact: 'yes' } },
        { name: 'x-debug', presentMatch: true, invertMatch: true },
        { name: ':method', stringMatch: { exact: 'POST' } },
      ],
    });
    assert.deepEqual(envoyRoute.route.weightedClusters.clusters, [
      { name: 'cds_egress_m_b_http_9090', weight: { value: 90 } },
      { name: 'cds_egress_m_c_http_9090', weight: { value: 10 } },
    ]);
    assert.deepEqual(envoyRoute.route.timeout, { seconds: 3, nanos: 0 });
    assert.deepEqual(envoyRoute.route.idleTimeout, { seconds: 1, nanos: 500_000_000 });
    assert.deepEqual(envoyRoute.route.retryPolicy, { retryOn: '5xx,connect-failure', numRetries: { value: 3 }, perTryTimeout: { seconds: 0, nanos: 250_000_000 } });
  });

  it('routes straight to the provider node when a virtual node provides the service', () => {
    const files = baseMesh();
    setIn(doc(files, 'svc-b'), 'spec.provider', { virtualNode: { virtualNodeName: 'b' } });
    const r = checkedTranslation(model(files), A);
    const host = routeOf(r, 'rds_egress_http_15001').virtualHosts[0];
    assert.deepEqual(host.domains, ['svc-b', 'svc-b:9090']);
    assert.deepEqual(host.routes[0].route, { cluster: 'cds_egress_m_b_http_9090' });
  });

  it('routes gRPC by service and method path', () => {
    const files = baseMesh();
    setIn(doc(files, 'b'), 'spec.listeners.0.portMapping.protocol', 'grpc');
    setIn(doc(files, 'r'), 'spec.listeners.0.portMapping.protocol', 'grpc');
    setIn(doc(files, 'rt'), 'spec', { grpcRoute: {
      match: { serviceName: 'color.Color', methodName: 'Get', metadata: [{ name: 'x-v', match: { prefix: 'v2' } }] },
      action: { weightedTargets: [{ virtualNode: 'b', weight: 1 }] },
      retryPolicy: { maxRetries: 1, perRetryTimeout: { unit: 's', value: 1 }, grpcRetryEvents: ['unavailable'] },
    } });
    const r = checkedTranslation(model(files), A);
    const [envoyRoute] = routeOf(r, 'rds_egress_http_15001').virtualHosts[0].routes;
    assert.deepEqual(envoyRoute.match, { path: '/color.Color/Get', headers: [{ name: 'x-v', stringMatch: { prefix: 'v2' } }], grpc: {} });
    assert.equal(envoyRoute.route.retryPolicy.retryOn, 'unavailable');
    const cluster = clusterOf(r, 'cds_egress_m_b_grpc_9090');
    assert.ok(cluster.typedExtensionProtocolOptions['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicitHttpConfig.http2ProtocolOptions);
  });

  it('routes a TCP backend by destination port, restored by original_dst', () => {
    const files = baseMesh();
    setIn(doc(files, 'b'), 'spec.listeners.0.portMapping.protocol', 'tcp');
    setIn(doc(files, 'r'), 'spec.listeners.0.portMapping', { port: 5432, protocol: 'tcp' });
    setIn(doc(files, 'rt'), 'spec', { tcpRoute: { action: { weightedTargets: [{ virtualNode: 'b', weight: 1 }] }, timeout: { idle: { unit: 's', value: 30 } } } });
    const r = checkedTranslation(model(files), A);
    const egress = listenerOf(r, 'lds_egress_0.0.0.0_15001');
    assert.deepEqual(egress.listenerFilters.map((f: Msg) => f.name), ['envoy.filters.listener.original_dst']);
    const [tcp, http] = egress.filterChains;
    assert.deepEqual(tcp.filterChainMatch, { destinationPort: { value: 5432 } });
    assert.equal(tcp.filters[0].typedConfig.cluster, 'cds_egress_m_b_tcp_9090');
    assert.deepEqual(tcp.filters[0].typedConfig.idleTimeout, { seconds: 30, nanos: 0 });
    assert.equal(http.filterChainMatch, undefined);
    assert.deepEqual(routeOf(r, 'rds_egress_http_15001').virtualHosts, []);
  });
});

describe('translate/routing: egress cluster kinds', () => {
  const rows: { name: string; discovery: unknown; meshd?: unknown; type: string; endpoint: { address: string; portValue: number }; eds: boolean }[] = [
    { name: 'DNS LOADBALANCER: LOGICAL_DNS at the target Envoy ingress port', discovery: { dns: { hostname: 'b.m.local' } }, type: 'LOGICAL_DNS', endpoint: { address: 'b.m.local', portValue: 15100 }, eds: false },
    { name: 'DNS ENDPOINTS: STRICT_DNS', discovery: { dns: { hostname: 'b.m.local', responseType: 'ENDPOINTS' } }, type: 'STRICT_DNS', endpoint: { address: 'b.m.local', portValue: 15100 }, eds: false },
    { name: 'Cloud Map: STRICT_DNS on service.namespace', discovery: { awsCloudMap: { namespaceName: 'm.local', serviceName: 'b' } }, type: 'STRICT_DNS', endpoint: { address: 'b.m.local', portValue: 15100 }, eds: false },
    { name: 'IP: EDS with the assignment in the snapshot', discovery: { dns: { hostname: '127.0.0.2' } }, type: 'EDS', endpoint: { address: '127.0.0.2', portValue: 15100 }, eds: true },
    { name: 'proxyless target: its own listener port', discovery: { dns: { hostname: '127.0.0.2' } }, meshd: { proxyless: true }, type: 'EDS', endpoint: { address: '127.0.0.2', portValue: 9090 }, eds: true },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const files = baseMesh();
      setIn(doc(files, 'b'), 'spec.serviceDiscovery', row.discovery);
      if (row.meshd) setIn(doc(files, 'b'), 'meshd', row.meshd);
      const r = checkedTranslation(model(files), A);
      const cluster = clusterOf(r, 'cds_egress_m_b_http_9090');
      assert.equal(cluster.type, row.type);
      const assignment = row.eds
        ? r[TypeUrl.ClusterLoadAssignment].find((x) => x.name === 'cds_egress_m_b_http_9090')!.message as Msg
        : cluster.loadAssignment;
      assert.equal(row.eds, cluster.loadAssignment === undefined);
      assert.deepEqual(assignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress, row.endpoint);
    });
  }
});

describe('translate/routing: ingress', () => {
  it('http2 listener: ingress cluster at the local app with HTTP/2, h2 offered over TLS', () => {
    const files = baseMesh();
    setIn(doc(files, 'b'), 'spec.listeners.0.portMapping.protocol', 'http2');
    setIn(doc(files, 'r'), 'spec.listeners.0.portMapping.protocol', 'http2');
    setIn(doc(files, 'rt'), 'spec', { http2Route: { match: { prefix: '/' }, action: { weightedTargets: [{ virtualNode: 'b', weight: 1 }] } } });
    const r = checkedTranslation(model(files), B);
    const cluster = clusterOf(r, 'cds_ingress_m_b_http2_9090');
    assert.equal(cluster.type, 'STATIC');
    assert.deepEqual(cluster.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress, { address: '127.0.0.1', portValue: 9090 });
    assert.ok(cluster.typedExtensionProtocolOptions);
    const chain = listenerOf(r, 'lds_ingress_0.0.0.0_15100').filterChains[0];
    assert.deepEqual(chain.transportSocket.typedConfig.commonTlsContext.alpnProtocols, ['h2', 'http/1.1']);
  });

  it('several listeners: chains per destination port, catch-all for the first, tcp_proxy for TCP', () => {
    const files = baseMesh();
    setIn(doc(files, 'b'), 'spec.listeners', [
      { portMapping: { port: 9090, protocol: 'http' }, tls: { mode: 'STRICT', certificate: { acm: { certificateArn: 'arn:aws:acm:r:1:certificate/b' } } } },
      { portMapping: { port: 5432, protocol: 'tcp' }, tls: { mode: 'PERMISSIVE', certificate: { acm: { certificateArn: 'arn:aws:acm:r:1:certificate/b' } } }, timeout: { tcp: { idle: { unit: 's', value: 60 } } } },
    ]);
    setIn(doc(files, 'rt'), 'spec.httpRoute.action.weightedTargets.0.port', 9090);
    setIn(doc(files, 'b'), 'spec.logging', { accessLog: { file: { path: '/dev/stdout' } } });
    const r = checkedTranslation(model(files), B);
    const ingress = listenerOf(r, 'lds_ingress_0.0.0.0_15100');
    assert.deepEqual(ingress.listenerFilters.map((f: Msg) => f.name), ['envoy.filters.listener.original_dst', 'envoy.filters.listener.tls_inspector']);
    assert.equal(ingress.continueOnListenerFiltersTimeout, true);
    assert.deepEqual(ingress.filterChains.map((c: Msg) => [c.filterChainMatch?.destinationPort?.value, c.filterChainMatch?.transportProtocol, c.filters[0].name]), [
      [9090, undefined, 'envoy.filters.network.http_connection_manager'],
      [5432, 'tls', 'envoy.filters.network.tcp_proxy'],
      [5432, undefined, 'envoy.filters.network.tcp_proxy'],
      [undefined, undefined, 'envoy.filters.network.http_connection_manager'],
    ]);
    const tcp = ingress.filterChains[1].filters[0].typedConfig;
    assert.equal(tcp.cluster, 'cds_ingress_m_b_tcp_5432');
    assert.deepEqual(tcp.idleTimeout, { seconds: 60, nanos: 0 });
    assert.equal(tcp.accessLog[0].typedConfig.path, '/dev/stdout');
    assert.equal(hcmOf(ingress.filterChains[0]).accessLog[0].typedConfig.path, '/dev/stdout');
    assert.deepEqual(namesOf(r, TypeUrl.Cluster), ['cds_ingress_m_b_http_9090', 'cds_ingress_m_b_tcp_5432']);
  });
});

describe('translate/routing: virtual gateways', () => {
  it('terminates mutual TLS and routes by hostname, prefix and headers with rewrites', () => {
    const files = baseMesh();
    setIn(doc(files, 'g'), 'spec.listeners.0.tls', {
      mode: 'STRICT', certificate: { sds: { secretName: 'default' } },
      validation: { trust: { sds: { secretName: 'ROOTCA' } }, subjectAlternativeNames: { match: { exact: ['client.example.com'] } } },
    });
    setIn(doc(files, 'g'), 'spec.backendDefaults', { clientPolicy: { tls: { certificate: { sds: { secretName: 'default' } }, validation: { trust: { sds: { secretName: 'ROOTCA' } } } } } });
    files['gateway.yaml']!.push({
      kind: 'GatewayRoute', meshName: 'm', virtualGatewayName: 'g', gatewayRouteName: 'by-host', spec: {
        priority: 1,
        httpRoute: {
          match: { prefix: '/v2', hostname: { suffix: '.example.com' }, headers: [{ name: 'x-tier', match: { exact: 'gold' } }] },
          action: { target: { virtualService: { virtualServiceName: 'svc-b' } }, rewrite: { hostname: { defaultTargetHostname: 'DISABLED' } } },
        },
      },
    });
    const r = checkedTranslation(model(files), G);
    const ingress = listenerOf(r, 'lds_ingress_0.0.0.0_15000');
    assert.equal(ingress.trafficDirection, 'INBOUND');
    const tls = ingress.filterChains[0].transportSocket.typedConfig;
    assert.deepEqual(tls.requireClientCertificate, { value: true });
    const hcm = hcmOf(ingress.filterChains[0]);
    assert.equal(hcm.stripAnyHostPort, true);
    const config = routeOf(r, hcm.rds.routeConfigName);
    assert.deepEqual(config.virtualHosts.map((h: Msg) => [h.domains, h.routes.map((x: Msg) => x.name)]), [
      [['*.example.com'], ['by-host', 'gr']],
      [['*'], ['gr']],
    ]);
    const [byHost] = config.virtualHosts[0].routes;
    assert.deepEqual(byHost.match, { prefix: '/v2', headers: [{ name: 'x-tier', stringMatch: { exact: 'gold' } }] });
    assert.deepEqual(byHost.route, { cluster: 'cds_egress_m_b_http_9090', prefixRewrite: '/' });
    const general = config.virtualHosts[1].routes[0].route;
    assert.equal(general.hostRewriteLiteral, 'svc-b');
    const upstream = clusterOf(r, 'cds_egress_m_b_http_9090').transportSocket.typedConfig.commonTlsContext;
    assert.equal(upstream.tlsCertificateSdsSecretConfigs[0].name, 'default');
  });
});

describe('translate/routing: SDS names and re-translation', () => {
  it('adds the CA bundle to what a client without a policy may fetch when it validates a meshd-issued server', () => {
    const m = model(baseMesh());
    assert.deepEqual(m.endpoints[A]!.sdsSecrets, []);
    assert.deepEqual(sdsSecretsNeeded(m, A, withCredential), [{ secretName: 'spiffe://meshd.local', provision: { kind: 'ca-bundle' } }]);
    assert.deepEqual(sdsSecretsNeeded(m, B, withCredential).map((s) => s.secretName), ['spiffe://meshd.local/mesh/m/virtualNode/b']);
  });

  it('rebuilds only the snapshots whose endpoint inputs changed', () => {
    const files = baseMesh();
    const first = translateMesh(model(files), withCredential);
    assert.deepEqual(first.rebuilt, [G, A, B]);
    // b's listener mode changes: b, and a and g that reach b, change; nothing else would.
    setIn(doc(files, 'b'), 'spec.listeners.0.tls.mode', 'PERMISSIVE');
    const second = translateMesh(model(files), withCredential, first);
    assert.deepEqual(second.rebuilt, [G, A, B]);
    assert.notEqual(second.snapshots.get(B), first.snapshots.get(B));
    // a's access log changes: only a.
    setIn(doc(files, 'a'), 'spec.logging', { accessLog: { file: { path: '/tmp/a.log' } } });
    const third = translateMesh(model(files), withCredential, second);
    assert.deepEqual(third.rebuilt, [A]);
    assert.deepEqual(third.reused, [G, B]);
    assert.equal(third.snapshots.get(B), second.snapshots.get(B));
  });

  it('rebuilds the callers of a listener whose outlier detection changes, whose egress clusters carry it', () => {
    const files = baseMesh();
    const first = translateMesh(model(files), withCredential);
    const detection = { maxServerErrors: 5, interval: { value: 10, unit: 's' }, baseEjectionDuration: { value: 30, unit: 's' }, maxEjectionPercent: 50 };
    setIn(doc(files, 'b'), 'spec.listeners.0.outlierDetection', detection);
    const second = translateMesh(model(files), withCredential, first);
    assert.deepEqual(second.rebuilt, [G, A, B]);
    const m = model(files);
    assert.deepEqual(clusterOf(checkedTranslation(m, A), 'cds_egress_m_b_http_9090').outlierDetection.consecutive_5xx, { value: 5 });
    assert.deepEqual(clusterOf(checkedTranslation(m, G), 'cds_egress_m_b_http_9090').outlierDetection.consecutive_5xx, { value: 5 });
    // a's own connection pool and health check: only a (nothing calls a).
    setIn(doc(files, 'a'), 'spec.listeners.0.connectionPool', { http: { maxConnections: 10 } });
    setIn(doc(files, 'a'), 'spec.listeners.0.healthCheck', { protocol: 'http', path: '/', intervalMillis: 5000, timeoutMillis: 2000, healthyThreshold: 2, unhealthyThreshold: 2 });
    const third = translateMesh(model(files), withCredential, second);
    assert.deepEqual(third.rebuilt, [A]);
    assert.deepEqual(third.reused, [G, B]);
  });
});
