// Warnings beside the model: Cloud Map attributes meshd accepts but cannot honour.
import { strict as assert } from 'node:assert';
import { formatErrors } from '../../src/spec/errors';
import { baseMesh, build, doc, model, setIn } from './fixtures';

const cloudMap = (version?: string): Record<string, unknown> => ({
  awsCloudMap: { namespaceName: 'm.local', serviceName: 'b', ...(version ? { attributes: [{ key: 'version', value: version }] } : {}) },
});

/** The base mesh with a second version `b2` of node `b`, and a route splitting between them. */
function blueRed(blue: Record<string, unknown>, red: Record<string, unknown>) {
  const files = baseMesh();
  const b = doc(files, 'b');
  setIn(b, 'spec.serviceDiscovery', blue);
  files['nodes.yaml']!.push({ ...structuredClone(b), virtualNodeName: 'b2', spec: { ...structuredClone(b.spec as object), serviceDiscovery: red } });
  setIn(doc(files, 'rt'), 'spec.httpRoute.action.weightedTargets', [{ virtualNode: 'b', weight: 50 }, { virtualNode: 'b2', weight: 50 }]);
  return files;
}

describe('model/warnings', () => {
  it('names the virtual nodes that differ only by Cloud Map attributes, and still builds the model', () => {
    const built = model(blueRed(cloudMap('blue'), cloudMap('red')));
    assert.deepEqual(formatErrors(built.warnings).split('\n'), ['b', 'b2'].map((name) =>
      `nodes.yaml: VirtualNode ${name}: spec.serviceDiscovery.awsCloudMap.attributes: ignored: meshd cannot query Cloud Map and resolves it as the DNS name "b.m.local" (serviceName.namespaceName), every instance alike; virtual nodes b, b2 have the same endpoint b.m.local:15100, so routes between them split nothing`));
  });

  it('says attributes are ignored even when the node shares its endpoint with no other', () => {
    const files = baseMesh();
    setIn(doc(files, 'b'), 'spec.serviceDiscovery', cloudMap('blue'));
    assert.deepEqual(formatErrors(model(files).warnings).split('\n'), [
      'nodes.yaml: VirtualNode b: spec.serviceDiscovery.awsCloudMap.attributes: ignored: meshd cannot query Cloud Map and resolves it as the DNS name "b.m.local" (serviceName.namespaceName), every instance alike; traffic goes to every instance of the service, whatever its attributes',
    ]);
  });

  it('has no warnings for Cloud Map without attributes, nor for nodes on distinct endpoints', () => {
    assert.deepEqual(model(baseMesh()).warnings, []);
    const files = blueRed(cloudMap(), cloudMap());
    assert.deepEqual(model(files).warnings, []);
    const distinct = blueRed(cloudMap('blue'), { awsCloudMap: { namespaceName: 'm.local', serviceName: 'b-red', attributes: [{ key: 'version', value: 'red' }] } });
    assert.ok(model(distinct).warnings.every((warning) => warning.message.endsWith('whatever its attributes')));
  });

  it('returns the warnings beside the errors of a mesh that is refused', () => {
    const files = blueRed(cloudMap('blue'), cloudMap('red'));
    setIn(doc(files, 'a'), 'spec.backends.0.virtualService.virtualServiceName', 'svc-x');
    const result = build(files);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.warnings.length, 2);
  });
});
