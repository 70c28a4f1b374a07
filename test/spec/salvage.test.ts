// Salvage: what of an invalid resource passes its schema once the refused parts are removed.
import { strict as assert } from 'node:assert';
import { resourceSchemas } from '../../src/spec/resource-schema';
import { salvage } from '../../src/spec/salvage';

const schema = resourceSchemas.VirtualNode;

function salvaged(input: Record<string, unknown>): unknown {
  const result = schema.safeParse(input);
  assert.equal(result.success, false, 'the input must be invalid');
  return salvage(schema, input, result.success ? [] : result.error.issues);
}

const validNode = {
  kind: 'VirtualNode', meshName: 'm', virtualNodeName: 'a',
  spec: {
    listeners: [{ portMapping: { port: 8080, protocol: 'http' } }],
    backends: [{ virtualService: { virtualServiceName: 'svc-b' } }],
  },
};

describe('spec/salvage', () => {
  it('removes a refused value, and the optional block that then lacks a required field', () => {
    const input = structuredClone(validNode);
    Object.assign(input.spec.listeners[0]!, { tls: { mode: 'SOMETIMES', certificate: { acm: { certificateArn: 'not-an-arn' } } } });
    assert.deepEqual(salvaged(input), validNode);
    assert.equal((input.spec.listeners[0] as { tls?: unknown }).tls !== undefined, true, 'the input is left as it was');
  });

  it('removes unknown fields and keeps everything else', () => {
    const input = { ...structuredClone(validNode), colour: 'blue', spec: { ...structuredClone(validNode.spec), extra: 1 } };
    assert.deepEqual(salvaged(input), validNode);
  });

  it('gives up rather than remove a list element (later indexes would name the wrong element)', () => {
    const input = structuredClone(validNode);
    (input.spec.listeners[0]!.portMapping as { protocol: string }).protocol = 'htp';
    assert.equal(salvaged(input), undefined);
  });

  it('gives up when the name itself is refused', () => {
    assert.equal(salvaged({ ...structuredClone(validNode), virtualNodeName: 'a b' }), undefined);
  });
});
