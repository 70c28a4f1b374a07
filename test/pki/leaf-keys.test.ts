import { strict as assert } from 'node:assert';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { generateLeafKeyPair, generateSec1Sync, leafKeyPairFromSec1, SEC1_P256_LENGTH } from '../../src/pki/leaf-keys';
import { PKCS8_LABEL } from '../support/pem';

describe('pki/leaf-keys', () => {
  it('assembles SPKI DER and PKCS#8 PEM byte for byte as OpenSSL encodes them', () => {
    for (let i = 0; i < 20; i++) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const pair = leafKeyPairFromSec1(privateKey.export({ type: 'sec1', format: 'der' }));
      assert.ok(pair);
      assert.deepEqual(pair.publicKeySpkiDer, publicKey.export({ type: 'spki', format: 'der' }));
      assert.equal(pair.privateKeyPem, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    }
  });

  it('gives a working pair: what the private key signs, the public key verifies', async () => {
    for (const pair of [leafKeyPairFromSec1(generateSec1Sync())!, await generateLeafKeyPair()]) {
      assert.ok(pair.privateKeyPem.startsWith(`-----BEGIN ${PKCS8_LABEL}-----\n`));
      const signature = sign('sha256', Buffer.from('tbs'), createPrivateKey(pair.privateKeyPem));
      assert.ok(verify('sha256', Buffer.from('tbs'), createPublicKey({ key: pair.publicKeySpkiDer, format: 'der', type: 'spki' }), signature));
    }
  });

  it('refuses bytes that are not a P-256 SEC1 key (the caller then uses the OpenSSL encoders)', () => {
    const sec1 = generateSec1Sync();
    assert.equal(sec1.length, SEC1_P256_LENGTH);
    assert.equal(leafKeyPairFromSec1(sec1.subarray(1)), undefined);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'sec1', format: 'der' });
    assert.equal(leafKeyPairFromSec1(p384), undefined);
    const damaged = Buffer.from(sec1);
    damaged[SEC1_P256_LENGTH - 65] = 0x02; // the public point's form: compressed is not what OpenSSL writes here
    assert.equal(leafKeyPairFromSec1(damaged), undefined);
  });
});
