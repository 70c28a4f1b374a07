// The mesh graph: which boxes and which caller -> service -> provider paths the model yields, on
// the base mesh, on variations of its routing, and on the demo mesh as shipped.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { loadMesh } from '../../src/model/load-mesh';
import { meshGraphs } from '../../src/posture';
import { baseMesh, doc, model, setIn } from '../model/fixtures';

const COLORAPP = path.resolve(__dirname, '../../../examples/colorapp');

describe('posture/edges', () => {
  it('draws gateways, nodes, services and routers, and one path per caller and provider listener', () => {
    const [graph] = meshGraphs(model(baseMesh()));
    assert.equal(graph!.mesh, 'm');
    assert.deepEqual(graph!.nodes.map((n) => `${n.kind} ${n.name} ${n.endpoint ?? '-'}`), [
      'virtualGateway g mesh/m/virtualGateway/g',
      'virtualNode a mesh/m/virtualNode/a',
      'virtualNode b mesh/m/virtualNode/b',
      'virtualService svc-b -',
      'virtualRouter r -',
    ]);
    assert.deepEqual(graph!.edges.map((e) => [e.id, e.router, e.routes.join(','), e.protocol, e.path.join(' > ')]), [
      ['mesh/m/virtualGateway/g -> svc-b -> mesh/m/virtualNode/b:9090', 'r', 'rt', 'http',
        'mesh/m/virtualGateway/g > mesh/m/virtualService/svc-b > mesh/m/virtualRouter/r > mesh/m/virtualNode/b'],
      ['mesh/m/virtualNode/a -> svc-b -> mesh/m/virtualNode/b:9090', 'r', 'rt', 'http',
        'mesh/m/virtualNode/a > mesh/m/virtualService/svc-b > mesh/m/virtualRouter/r > mesh/m/virtualNode/b'],
    ]);
  });

  it('reaches a node provider on every listener, and skips weight-0 targets', () => {
    const files = baseMesh();
    setIn(doc(files, 'svc-b'), 'spec.provider', { virtualNode: { virtualNodeName: 'b' } });
    setIn(doc(files, 'b'), 'spec.listeners.1', { portMapping: { port: 9091, protocol: 'grpc' } });
    setIn(doc(files, 'rt'), 'spec.httpRoute.action.weightedTargets.0.port', 9090);
    const edges = meshGraphs(model(files))[0]!.edges.filter((e) => e.caller === 'mesh/m/virtualNode/a');
    assert.deepEqual(edges.map((e) => `${e.port}/${e.protocol} ${e.posture} ${e.router ?? 'no router'} ${e.path.length}`), [
      '9090/http tls no router 3',
      '9091/grpc plaintext no router 3',
    ]);

    const weighted = baseMesh();
    setIn(doc(weighted, 'rt'), 'spec.httpRoute.action.weightedTargets', [{ virtualNode: 'b', weight: 0 }, { virtualNode: 'a', weight: 100 }]);
    const routed = meshGraphs(model(weighted))[0]!.edges.filter((e) => e.caller === 'mesh/m/virtualGateway/g');
    assert.deepEqual(routed.map((e) => e.provider), ['mesh/m/virtualNode/a']);
  });

  it('gives the demo mesh its postures: mTLS with SAN checks to front and blue, PERMISSIVE to green', async () => {
    const loaded = await loadMesh(COLORAPP);
    assert.ok(loaded.ok);
    const [graph] = meshGraphs(loaded.model);
    assert.deepEqual(graph!.edges.map((e) => `${e.caller} -> ${e.service} -> ${e.provider}:${e.port} ${e.posture}`), [
      'mesh/colorapp/virtualGateway/gateway -> front.colorapp.local -> mesh/colorapp/virtualNode/front:8080 mtls-san',
      'mesh/colorapp/virtualNode/front -> color.colorapp.local -> mesh/colorapp/virtualNode/color-blue:8081 mtls-san',
      'mesh/colorapp/virtualNode/front -> color.colorapp.local -> mesh/colorapp/virtualNode/color-green:8082 permissive',
    ]);
  });
});
