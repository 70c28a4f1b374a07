import { strict as assert } from 'node:assert';
import { hash } from 'node:crypto';
import { shortHex } from '../../src/util/short-hex';

describe('util/short-hex', () => {
  it('gives the first 16 hex digits of a digest', () => {
    for (const text of ['', 'a', 'meshd'.repeat(100)]) {
      const digest = hash('sha256', text, 'hex');
      assert.equal(shortHex(digest), digest.slice(0, 16));
      assert.match(shortHex(digest), /^[0-9a-f]{16}$/);
    }
  });
});
