import { strict as assert } from 'node:assert';
import { decodePageToken, encodePageToken } from '../../src/api/pagination';

describe('api/pagination', () => {
  it('round-trips the key a page ends at, and refuses tokens it did not make', () => {
    assert.equal(decodePageToken(encodePageToken('node-7')), 'node-7');
    for (const bad of ['', 'garbage', Buffer.from('{"after":1}').toString('base64url')]) {
      assert.throws(() => decodePageToken(bad), (err: Error) => err.name === 'BadRequestException' && /nextToken/.test(err.message));
    }
  });
});
