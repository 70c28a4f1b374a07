import { strict as assert } from 'node:assert';
import { envoyRoot, messageType } from '../../src/xds/protos';

describe('xds/protos', () => {
  it('loads Envoy v3 services and resource types from the pinned package', () => {
    const root = envoyRoot();
    assert.ok(root.lookupService('envoy.service.discovery.v3.AggregatedDiscoveryService'));
    assert.ok(root.lookupService('envoy.service.secret.v3.SecretDiscoveryService'));
    assert.ok(messageType('envoy.config.cluster.v3.Cluster').fields.name);
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
