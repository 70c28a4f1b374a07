import { strict as assert } from 'node:assert';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { toPem } from '../../src/pki/der';

describe('pki/der', () => {
  it('armours DER as OpenSSL does: a private key exported by node:crypto, byte for byte', () => {
    for (let i = 0; i < 20; i++) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: i % 2 === 0 ? 'P-256' : 'P-384' });
      const der = privateKey.export({ type: 'pkcs8', format: 'der' });
      assert.equal(toPem('PRIVATE KEY', der), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    }
  });

  it('wraps every length at 64 characters, a view into a larger buffer included', () => {
    for (let length = 0; length <= 200; length++) {
      const backing = randomBytes(length + 16);
      const der = new Uint8Array(backing.buffer, backing.byteOffset + 7, length);
      const base64 = Buffer.from(der).toString('base64');
      const lines = base64.match(/.{1,64}/g) ?? [''];
      assert.equal(toPem('TEST', der), `-----BEGIN TEST-----\n${lines.join('\n')}\n-----END TEST-----\n`, `${length} bytes`);
    }
  });
});
