import { strict as assert } from 'node:assert';
import { pruneToShape, specShapes } from '../../src/import/k8s-schema';

describe('import: the controller\'s CRD schemas', () => {
  it('drops fields the schema lacks, at any depth, and keeps free-form selectors whole', () => {
    const dropped: string[] = [];
    const pruned = pruneToShape({
      podSelector: { matchLabels: { anything: 'goes' } },
      listeners: [{ portMapping: { port: 80, protocol: 'http', name: 'web' }, tls: { mode: 'STRICT', certificate: { acm: { certificateARN: 'a' } } } }],
      backend: [],
    }, specShapes.VirtualNode!, 'spec', (path) => dropped.push(path));
    assert.deepEqual(pruned, {
      podSelector: { matchLabels: { anything: 'goes' } },
      listeners: [{ portMapping: { port: 80, protocol: 'http' }, tls: { mode: 'STRICT', certificate: { acm: { certificateARN: 'a' } } } }],
    });
    assert.deepEqual(dropped, ['spec.listeners[0].portMapping.name', 'spec.backend']);
  });
});
