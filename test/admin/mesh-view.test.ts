// The view document: the model's paths joined with the live streams of the real stream registry
// (fed the events the protocol servers report), the certificate and the rollover's progress.
import { strict as assert } from 'node:assert';
import { buildMeshView, endpointSync } from '../../src/admin/mesh-view';
import { StreamRegistry } from '../../src/admin/stream-registry';
import type { StreamInfo } from '../../src/server/observer';
import { TypeUrl } from '../../src/xds/type-urls';
import { baseMesh, model } from '../model/fixtures';

const A = 'mesh/m/virtualNode/a';
const B = 'mesh/m/virtualNode/b';
let nextId = 1;

function stream(nodeKey: string, service: string): StreamInfo {
  return { id: nextId++, service, flavor: 'sotw', peer: 'ipv4:127.0.0.1:5000', node: { id: nodeKey, cluster: '', userAgentName: 'envoy', metadata: {} } as unknown as StreamInfo['node'], nodeKey, connectedAt: new Date() };
}

describe('admin/mesh-view', () => {
  it('counts proxies by xDS stream, in sync only with every type and the endpoint\'s SDS ACKed', () => {
    const registry = new StreamRegistry();
    const ads = stream(A, 'ADS');
    const sds = stream(A, 'SDS');
    registry.streamOpened(ads);
    registry.streamOpened(sds);
    assert.deepEqual(endpointSync(registry.proxies()), { proxies: 1, inSync: 0 }, 'nothing sent yet');
    registry.responseSent(ads, TypeUrl.Cluster, 'c1', 'n1', 1);
    registry.ackReceived(ads, TypeUrl.Cluster, 'c1', 'n1');
    registry.responseSent(sds, TypeUrl.Secret, 's1', 'n2', 2);
    assert.deepEqual(endpointSync(registry.proxies()), { proxies: 1, inSync: 0 }, 'SDS not ACKed');
    registry.ackReceived(sds, TypeUrl.Secret, 's1', 'n2');
    assert.deepEqual(endpointSync(registry.proxies()), { proxies: 1, inSync: 1 });
    registry.responseSent(ads, TypeUrl.Cluster, 'c2', 'n3', 1);
    registry.nackReceived(ads, TypeUrl.Cluster, 'c1', 'n3', 'cluster b: bad');
    assert.deepEqual(endpointSync(registry.proxies()), { proxies: 1, inSync: 0 }, 'NACKed');
  });

  it('joins paths, proxies, certificates, the refused change and the rollover', () => {
    const registry = new StreamRegistry();
    const ads = stream(A, 'ADS');
    registry.streamOpened(ads);
    registry.responseSent(ads, TypeUrl.Cluster, 'c1', 'n1', 1);
    registry.ackReceived(ads, TypeUrl.Cluster, 'c1', 'n1');
    const view = buildMeshView({
      model: () => model(baseMesh()),
      mesh: () => ({ revision: '4', appliedAt: '2026-01-01T00:00:00.000Z', lastRefused: { at: '2026-01-01T00:01:00.000Z', errors: ['nodes.yaml: VirtualNode b: spec.listeners[0].tls.mode: bad'] } }),
      proxies: () => registry.proxies(),
      certificate: (id) => (id === B ? { serial: 'ab12', sans: ['spiffe://meshd.local/mesh/m/virtualNode/b'], notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-01-02T00:00:00.000Z', caId: 'ca-2' } : undefined),
      trustBundle: () => ({ version: 'v', caSerials: ['01', '02'] }),
      rollover: () => ({ inProgress: true, currentCaId: 'ca-2', previousCaId: 'ca-1', leaves: 3, moved: 1 }),
    }, new Date('2026-01-01T00:02:00.000Z'));
    assert.equal(view.generatedAt, '2026-01-01T00:02:00.000Z');
    assert.deepEqual(view.refused, { at: '2026-01-01T00:01:00.000Z', errors: ['nodes.yaml: VirtualNode b: spec.listeners[0].tls.mode: bad'] });
    const edge = view.meshes[0]!.edges.find((e) => e.caller === A)!;
    assert.deepEqual([edge.callerSync, edge.providerSync], [{ proxies: 1, inSync: 1 }, { proxies: 0, inSync: 0 }]);
    const b = view.endpoints.find((e) => e.id === B)!;
    assert.equal(b.certificate?.serial, 'ab12');
    assert.equal(view.endpoints.find((e) => e.id === A)!.proxies[0]!.types[0]!.state, 'synced');
    assert.deepEqual(view.rollover, { inProgress: true, currentCaId: 'ca-2', previousCaId: 'ca-1', leaves: 3, moved: 1 });
  });

  it('is empty, not failing, before a mesh is loaded', () => {
    const view = buildMeshView({
      model: () => undefined, mesh: () => ({ revision: null }), proxies: () => [], certificate: () => undefined,
      trustBundle: () => ({ version: '', caSerials: [] }), rollover: () => ({ inProgress: false, currentCaId: 'ca-1', leaves: 0, moved: 0 }),
    });
    assert.equal(view.revision, null);
    assert.deepEqual([view.meshes, view.endpoints], [[], []]);
  });
});
