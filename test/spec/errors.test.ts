import { strict as assert } from 'node:assert';
import { formatError, formatPath, sortErrors } from '../../src/spec/errors';

describe('spec/errors', () => {
  it('formats paths with dots and indexes', () => {
    assert.equal(formatPath(['spec', 'listeners', 0, 'tls', 'mode']), 'spec.listeners[0].tls.mode');
    assert.equal(formatPath([0, 'kind']), '[0].kind');
    assert.equal(formatPath([]), '');
  });

  it('formats an error with only the parts it has', () => {
    assert.equal(formatError({ file: 'nodes.yaml', resource: 'VirtualNode colorteller', path: 'spec.listeners[0].tls.mode', message: 'must be STRICT, PERMISSIVE or DISABLED' }),
      'nodes.yaml: VirtualNode colorteller: spec.listeners[0].tls.mode: must be STRICT, PERMISSIVE or DISABLED');
    assert.equal(formatError({ file: 'a.yaml', line: 3, column: 7, message: 'YAML syntax error: x' }), 'a.yaml:3:7: YAML syntax error: x');
    assert.equal(formatError({ file: 'a.yaml', resource: 'Mesh m', message: 'bad' }), 'a.yaml: Mesh m: bad');
  });

  it('sorts by file and keeps the order within a file', () => {
    const sorted = sortErrors([
      { file: 'b.yaml', message: '1' }, { file: 'a.yaml', message: '2' }, { file: 'b.yaml', message: '3' }, { file: 'a.yaml', message: '4' },
    ]);
    assert.deepEqual(sorted.map((e) => e.message), ['2', '4', '1', '3']);
  });
});
