import { strict as assert } from 'node:assert';
import { dnsCluster, edsCluster, staticCluster } from '../../src/envoy/cluster';
import { clusterLoadAssignment } from '../../src/envoy/endpoint';
import { filterChain, listener, tcpProxyFilter } from '../../src/envoy/listener';
import { validateMessage } from '../../src/xds/pgv';
import { messageType } from '../../src/xds/protos';

const Cluster = messageType('envoy.config.cluster.v3.Cluster');

describe('envoy/cluster, endpoint and listener builders', () => {
  const families: [string | undefined, string][] = [
    [undefined, 'V4_PREFERRED'], ['IPv4_ONLY', 'V4_ONLY'], ['IPv6_ONLY', 'V6_ONLY'], ['IPv6_PREFERRED', 'AUTO'],
  ];
  for (const [preference, family] of families) {
    it(`DNS lookup family for ${preference ?? 'no preference'} is ${family}`, () => {
      const cluster = dnsCluster({ name: 'c', http2: false, type: 'STRICT_DNS', endpoint: { host: 'b.local', port: 1 }, ...(preference ? { ipPreference: preference } : {}) });
      assert.equal(cluster.dnsLookupFamily, family);
      assert.deepEqual(validateMessage(Cluster, cluster), []);
    });
  }

  it('EDS clusters name their assignment; HTTP/2 adds protocol options; static clusters are valid', () => {
    const eds = edsCluster({ name: 'e', http2: true });
    assert.equal((eds.edsClusterConfig as { serviceName: string }).serviceName, 'e');
    assert.ok(eds.typedExtensionProtocolOptions);
    assert.deepEqual(validateMessage(Cluster, eds), []);
    assert.deepEqual(validateMessage(Cluster, staticCluster({ name: 's', http2: false, endpoints: [{ host: '127.0.0.1', port: 8080 }] })), []);
  });

  it('an empty load assignment has no localities', () => {
    assert.deepEqual(clusterLoadAssignment('x', []), { clusterName: 'x' });
  });

  it('builds a valid TCP listener with weighted clusters', () => {
    const built = listener({
      name: 'l', address: '127.0.0.1', port: 1, statPrefix: 's', listenerFilters: [], trafficDirection: 'OUTBOUND',
      filterChains: [filterChain('tcp', { destinationPort: 5432 }, [tcpProxyFilter({ statPrefix: 'egress', clusters: [{ name: 'a', weight: 1 }, { name: 'b', weight: 3 }] })])],
    });
    assert.deepEqual(validateMessage(messageType('envoy.config.listener.v3.Listener'), built), []);
  });
});
