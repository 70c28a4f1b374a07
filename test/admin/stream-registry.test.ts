import { strict as assert } from 'node:assert';
import { StreamRegistry, formFromUserAgent, transportOf } from '../../src/admin/stream-registry';
import { ResourceSet } from '../../src/cache/snapshot';
import { TypeUrl } from '../../src/xds/type-urls';
import { BACK, FRONT, GATEWAY, proxylessNode, startHarness, until, type Harness } from './harness';

describe('admin/stream-registry', () => {
  let h: Harness;
  beforeEach(async () => { h = await startHarness(); });
  afterEach(async () => { await h.close(); });

  it('reads transport from grpc-js peers and form from the user agent', () => {
    assert.equal(transportOf('127.0.0.1:51234'), 'tcp');
    assert.equal(transportOf('::1:51234'), 'tcp');
    assert.equal(transportOf('unknown'), 'unix');
    assert.equal(transportOf('unix:/run/meshd.sock'), 'unix');
    assert.equal(formFromUserAgent({ id: 'x', cluster: '', userAgentName: 'envoy' }), 'envoy');
    assert.equal(formFromUserAgent({ id: 'x', cluster: '', userAgentName: 'gRPC Go' }), 'grpc');
  });

  it('records each stream: node, endpoint, form, service, transport and per-type sent/acked', async () => {
    const envoy = h.stream(FRONT, { transport: 'unix' });
    const cds = await envoy.next();
    envoy.ack(cds);
    const grpcStream = h.client('tcp').sotw('ads');
    grpcStream.send({ node: proxylessNode(GATEWAY, h.credentials.tokenFor(GATEWAY)), typeUrl: TypeUrl.Listener });
    await grpcStream.next();

    const front = await until(() => h.registry.proxies().find((p) => p.nodeId === FRONT && p.types[0]?.state === 'synced'), 'FRONT synced');
    assert.equal(front.endpoint, FRONT);
    assert.equal(front.form, 'envoy');
    assert.equal(front.service, 'ADS');
    assert.equal(front.flavor, 'sotw');
    assert.equal(front.transport, 'unix');
    assert.ok(!Number.isNaN(Date.parse(front.connectedSince)));
    assert.equal(front.types.length, 1);
    const [cdsStatus] = front.types;
    assert.equal(cdsStatus!.type, 'CDS');
    assert.equal(cdsStatus!.sent!.version, cds.versionInfo);
    assert.equal(cdsStatus!.sent!.nonce, cds.nonce);
    assert.equal(cdsStatus!.sent!.resourceCount, 2);
    assert.equal(cdsStatus!.acked!.version, cds.versionInfo);

    const gateway = h.registry.proxies().find((p) => p.nodeId === GATEWAY)!;
    assert.equal(gateway.form, 'grpc');
    assert.equal(gateway.transport, 'tcp');
    assert.equal(gateway.types[0]!.state, 'pending');
    // Node metadata (which carries the proxyless credential) is never kept in the status.
    assert.ok(!JSON.stringify(h.registry.proxies()).includes(h.credentials.tokenFor(GATEWAY)));
  });

  it('records a NACK with the version it refused, not the one the proxy kept', async () => {
    const stream = h.stream(BACK);
    const first = await stream.next();
    stream.ack(first);
    await until(() => h.registry.proxies().find((p) => p.types[0]?.acked)?.types[0], 'first ACK');
    // A new cluster set arrives; the proxy refuses it, keeping the first version.
    h.cache.setSnapshot(BACK, h.cache.getSnapshot(BACK)!.with(new ResourceSet(TypeUrl.Cluster, [])));
    const second = await stream.next();
    assert.notEqual(second.versionInfo, first.versionInfo);
    stream.send({ typeUrl: TypeUrl.Cluster, versionInfo: first.versionInfo, responseNonce: second.nonce, errorDetail: { code: 3, message: 'cluster secure-backend: bad TLS context' } });
    const status = await until(() => h.registry.proxies().find((p) => p.nodeId === BACK && p.types[0]?.lastNack)?.types[0], 'NACK recorded');
    assert.equal(status.state, 'nacked');
    assert.equal(status.lastNack!.version, second.versionInfo);
    assert.equal(status.lastNack!.nonce, second.nonce);
    assert.equal(status.lastNack!.message, 'cluster secure-backend: bad TLS context');
    assert.equal(status.acked!.version, first.versionInfo);
    assert.equal(status.sent!.version, second.versionInfo);
  });

  it('names the refused version for a NACK of any of the last 8 responses, and falls back to the NACK\'s own after that', () => {
    const registry = new StreamRegistry();
    const stream = { id: 1, service: 'ADS', flavor: 'sotw' as const, peer: 'ipv4:127.0.0.1:1', node: { id: BACK, cluster: '', userAgentName: 'envoy' }, nodeKey: BACK, connectedAt: new Date() };
    registry.streamOpened(stream);
    for (let i = 1; i <= 12; i++) registry.responseSent(stream, TypeUrl.Cluster, `v${i}`, `n${i}`, 1);
    const refused = (nonce: string): string | undefined => {
      registry.nackReceived(stream, TypeUrl.Cluster, 'kept', nonce, 'bad');
      return registry.proxies()[0]!.types[0]!.lastNack!.version;
    };
    // The ring holds the last 8 (n5..n12), each with its own version, however it wrapped.
    for (let i = 5; i <= 12; i++) assert.equal(refused(`n${i}`), `v${i}`);
    assert.equal(refused('n4'), 'kept', 'a nonce older than the last 8: the version the NACK carries');
    assert.equal(refused(''), 'kept');
  });

  it('forgets a closed stream but keeps it in the recent history', async () => {
    const stream = h.stream(FRONT);
    await stream.next();
    await until(() => (h.registry.proxies().length === 1 ? true : undefined), 'stream registered');
    stream.end();
    await until(() => (h.registry.proxies().length === 0 ? true : undefined), 'stream closed');
    const [closed] = h.registry.recentlyClosed();
    assert.equal(closed!.nodeId, FRONT);
    assert.ok(!Number.isNaN(Date.parse(closed!.closedAt)));
  });

  it('takes the served form from an injected function', () => {
    const registry = new StreamRegistry({ formOf: (node) => (node.cluster === 'proxyless' ? 'grpc' : 'envoy') });
    const info = { id: 1, service: 'ADS', flavor: 'sotw' as const, peer: '10.0.0.8:4000', node: { id: FRONT, cluster: 'proxyless', userAgentName: 'envoy' }, nodeKey: FRONT, connectedAt: new Date() };
    registry.streamOpened(info);
    assert.equal(registry.proxies()[0]!.form, 'grpc');
    assert.equal(registry.proxies()[0]!.types.length, 0);
  });
});
