import { strict as assert } from 'node:assert';
import { containsPrivateKey } from '../../src/admin/key-guard';

describe('admin/key-guard', () => {
  it('finds PEM private keys of every kind, and nothing else', () => {
    for (const header of ['PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']) {
      assert.ok(containsPrivateKey(`{"x":"-----BEGIN ${header}-----\\nMIG"}`), header);
    }
    assert.ok(!containsPrivateKey('-----BEGIN CERTIFICATE-----\nMIIB'));
    assert.ok(!containsPrivateKey('{"privateKey":"[redacted]"}'));
  });
});
