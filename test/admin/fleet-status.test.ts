// The fleet as /status shows it: a replica's streams folded into one entry per proxy, and this
// replica's live proxies merged with the others' published ones, each labelled with its replica.
import { strict as assert } from 'node:assert';
import { fleetProxiesOf, fleetStatus } from '../../src/admin/fleet-status';
import { StreamRegistry } from '../../src/admin/stream-registry';
import type { StreamInfo } from '../../src/server/observer';
import { TypeUrl } from '../../src/xds/type-urls';

const FRONT = 'mesh/demo/virtualNode/front';

function stream(id: number, service: string, connectedAt: string): StreamInfo {
  return { id, service, flavor: 'sotw', peer: 'ipv4:127.0.0.1:5000', node: { id: FRONT, cluster: '', userAgentName: 'envoy' } as StreamInfo['node'], nodeKey: FRONT, connectedAt: new Date(connectedAt) };
}

describe('admin/fleet-status', () => {
  it("folds a node's streams into one proxy: oldest connection, every stream kind, each type's state and a clipped NACK", () => {
    const registry = new StreamRegistry();
    const ads = stream(1, 'ADS', '2026-01-01T00:00:00.000Z');
    const sds = stream(2, 'SDS', '2026-01-01T00:00:05.000Z');
    registry.streamOpened(sds);
    registry.streamOpened(ads);
    registry.responseSent(ads, TypeUrl.Cluster, 'c1', 'n1', 3);
    registry.ackReceived(ads, TypeUrl.Cluster, 'c1', 'n1');
    registry.responseSent(ads, TypeUrl.Listener, 'l2', 'n2', 1);
    registry.nackReceived(ads, TypeUrl.Listener, 'l1', 'n2', 'x'.repeat(1000));
    registry.responseSent(sds, TypeUrl.Secret, 's1', 'n3', 2);
    const [proxy, ...rest] = fleetProxiesOf(registry.records());
    assert.deepEqual(rest, []);
    assert.equal(proxy!.since, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(proxy!.streams, ['ADS/sotw', 'SDS/sotw']);
    assert.deepEqual(proxy!.types.CDS, { state: 'synced', sent: 'c1', acked: 'c1' });
    assert.equal(proxy!.types.LDS?.state, 'nacked');
    assert.equal(proxy!.types.LDS?.nack?.length, 200);
    assert.deepEqual(proxy!.types.SDS, { state: 'pending', sent: 's1' });
  });

  it('lists this replica live and the others as published, skipping its own published copy', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const proxy = (nodeId: string): { nodeId: string; endpoint: string; since: string; streams: string[]; types: Record<string, never> } => ({ nodeId, endpoint: nodeId, since: at, streams: ['ADS/sotw'], types: {} });
    const status = fleetStatus({ name: 'b', xds: ['b:1'], startedAt: at }, [proxy('n2')], [
      { name: 'a', xds: ['a:1'], startedAt: at, proxies: [proxy('n3'), proxy('n1')] },
      { name: 'b', xds: ['b:1'], startedAt: at, proxies: [proxy('stale')] },
    ]);
    assert.equal(status.replica, 'b');
    assert.deepEqual(status.replicas.map((r) => [r.name, r.proxies, r.self]), [['a', 2, false], ['b', 1, true]]);
    assert.deepEqual(status.proxies.map((p) => `${p.nodeId}@${p.replica}`), ['n1@a', 'n2@b', 'n3@a']);
  });
});
