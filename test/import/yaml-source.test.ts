import { strict as assert } from 'node:assert';
import { readSource } from '../../src/import/yaml-source';

describe('import: reading YAML and JSON sources', () => {
  it('keeps short-form tags as plain values unless asked to read them, and reports strings with their lines', () => {
    const plain = readSource('a: !Ref X\nb:\n  - text\n', { shortForms: false, maxAliases: 10 });
    assert.ok(plain.ok);
    assert.deepEqual(plain.documents[0]!.value, { a: 'X', b: ['text'] });
    assert.deepEqual(plain.strings, [{ value: 'X', line: 1 }, { value: 'text', line: 3 }]);
    const tagged = readSource('a: !Ref X\n', { shortForms: true, maxAliases: 10 });
    assert.ok(tagged.ok);
    assert.deepEqual(tagged.documents[0]!.value, { a: { Ref: 'X' } });
  });

  it('stops an alias bomb at the limit and names the line', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 6; level += 1) levels.push(`${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(9).fill(`*${String.fromCharCode(96 + level)}`).join(', ')}]`);
    const read = readSource(`${levels.join('\n')}\n`, { shortForms: true, maxAliases: 100 });
    assert.equal(read.ok, false);
    assert.ok(!read.ok && /expands YAML aliases more than 100 times/.test(read.message) && read.line !== undefined);
  });

  it('refuses duplicate keys, naming the line', () => {
    const read = readSource('a: 1\na: 2\n', { shortForms: true, maxAliases: 10 });
    assert.ok(!read.ok && read.line === 2, JSON.stringify(read));
  });
});
