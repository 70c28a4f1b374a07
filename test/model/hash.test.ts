import { strict as assert } from 'node:assert';
import { canonicalJson, contentHash, deepFreeze } from '../../src/model/hash';

describe('model/hash', () => {
  it('hashes equal content equally whatever the key order, and leaves out undefined members', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } }), '{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
    assert.equal(contentHash({ a: 1, b: 2 }), contentHash({ b: 2, a: 1 }));
    assert.notEqual(contentHash({ a: 1 }), contentHash({ a: 2 }));
    assert.notEqual(contentHash([1, 2]), contentHash([2, 1]));
  });

  it('freezes deeply', () => {
    const value = deepFreeze({ a: { b: [1] } });
    assert.ok(Object.isFrozen(value.a.b));
  });
});
