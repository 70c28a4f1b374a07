import { strict as assert } from 'node:assert';
import { decodePageToken, encodePageToken, paginate } from '../../src/api/pagination';

describe('api/pagination', () => {
  it('round-trips the key a page ends at, and refuses tokens it did not make', () => {
    assert.equal(decodePageToken(encodePageToken('node-7')), 'node-7');
    for (const bad of ['', 'garbage', Buffer.from('{"after":1}').toString('base64url')]) {
      assert.throws(() => decodePageToken(bad), (err: Error) => err.name === 'BadRequestException' && /nextToken/.test(err.message));
    }
  });
});

describe('api/pagination paginate', () => {
  const entries = ['a', 'b', 'c', 'd', 'e'].map((key) => ({ key, item: key.toUpperCase() }));

  it('pages by limit, continuing after the last key even when entries change between pages', () => {
    const first = paginate(entries, { limit: 2 }, 100);
    assert.deepEqual(first.items.map((e) => e.item), ['A', 'B']);
    const withoutB = entries.filter((e) => e.key !== 'b');
    const second = paginate(withoutB, { limit: 2, nextToken: first.nextToken }, 100);
    assert.deepEqual(second.items.map((e) => e.item), ['C', 'D']);
    const last = paginate(withoutB, { limit: 2, nextToken: second.nextToken }, 100);
    assert.deepEqual(last.items.map((e) => e.item), ['E']);
    assert.equal(last.nextToken, undefined);
  });

  it('refuses a limit outside 1..max', () => {
    for (const limit of [0, 101, 1.5, 'x']) assert.throws(() => paginate(entries, { limit }, 100), /limit: must be a whole number from 1 to 100/);
  });
});
