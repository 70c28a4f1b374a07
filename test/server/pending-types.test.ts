import { strict as assert } from 'node:assert';
import { PendingTypes } from '../../src/server/pending-types';

describe('server/pending-types', () => {
  it('counts marked types once, keeps a forced mark forced until taken, and forgets taken ones', () => {
    const pending = new PendingTypes();
    pending.mark('a', false);
    pending.mark('a', true);
    pending.mark('a', false);
    pending.mark('b', false);
    assert.equal(pending.size, 2);
    assert.equal(pending.has('a'), true);
    assert.equal(pending.take('a'), true);
    assert.equal(pending.has('a'), false);
    assert.equal(pending.take('a'), undefined);
    assert.equal(pending.size, 1);
    assert.equal(pending.take('b'), false);
    assert.equal(pending.size, 0);
    assert.equal(pending.first(), undefined);
  });

  it('names the first pending type in the order types were first marked, skipping taken ones', () => {
    const pending = new PendingTypes();
    pending.mark('x', false);
    pending.mark('y', false);
    pending.mark('z', true);
    assert.equal(pending.first(), 'x');
    pending.take('x');
    assert.equal(pending.first(), 'y');
    pending.take('y');
    pending.mark('x', false);
    assert.equal(pending.first(), 'x', 'x was marked first, so it comes first again once re-marked');
    pending.clear();
    assert.equal(pending.size, 0);
    assert.equal(pending.has('z'), false);
  });

  it('holds up to 30 types, each re-marked and taken independently; a 31st is refused', () => {
    const pending = new PendingTypes();
    const types = Array.from({ length: 30 }, (_, i) => `type-${i}`);
    types.forEach((type, i) => pending.mark(type, i % 2 === 0));
    assert.equal(pending.size, 30);
    assert.equal(pending.first(), 'type-0');
    assert.equal(pending.take('type-29'), false);
    assert.equal(pending.take('type-28'), true);
    assert.equal(pending.size, 28);
    pending.take('type-0');
    assert.equal(pending.first(), 'type-1');
    assert.throws(() => pending.mark('type-30', false), /more than 30 types/);
  });
});
