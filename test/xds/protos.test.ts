import { strict as assert } from 'node:assert';
import { envoyRoot, messageType } from '../../src/xds/protos';

describe('xds/protos', () => {
  it('loads Envoy v3 services and resource types from the pinned package', () => {
    const root = envoyRoot();
    assert.ok(root.lookupService('envoy.service.discovery.v3.AggregatedDiscoveryService'));
    assert.ok(root.lookupService('envoy.service.secret.v3.SecretDiscoveryService'));
    assert.ok(messageType('envoy.config.cluster.v3.Cluster').fields.name);
  });

  it('loads the bootstrap and CSDS files on first use of one of their types, keeping the types already in use', () => {
    const cluster = messageType('envoy.config.cluster.v3.Cluster');
    const bootstrap = messageType('envoy.config.bootstrap.v3.Bootstrap');
    assert.ok(bootstrap.fields.staticResources);
    assert.equal(envoyRoot().lookupType('envoy.config.cluster.v3.Cluster'), cluster);
    assert.equal((bootstrap.lookupType('envoy.config.bootstrap.v3.Bootstrap.StaticResources').fields.clusters!.resolve().resolvedType), cluster);
    assert.ok(messageType('envoy.service.status.v3.ClientStatusRequest').fields.nodeMatchers);
    assert.throws(() => messageType('envoy.config.bootstrap.v3.NoSuchMessage'), /no such type/);
  });

  it('round-trips a listener with a typed_config Any', () => {
    const Listener = messageType('envoy.config.listener.v3.Listener');
    const hcm = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
    const bytes = Listener.encode(Listener.fromObject({
      name: 'ingress',
      filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: { '@type': hcm, statPrefix: 'ingress' } }] }],
    })).finish();
    const back = Listener.toObject(Listener.decode(bytes)) as { name: string; filterChains: { filters: { typedConfig: { type_url: string } }[] }[] };
    assert.equal(back.name, 'ingress');
    assert.equal(back.filterChains[0]!.filters[0]!.typedConfig.type_url, hcm);
  });
});
