import { strict as assert } from 'node:assert';
import { createECDH, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { generateLeafKeyPair, generateSec1Sync, leafKeyPairFromSec1, SEC1_P256_LENGTH, writeSec1 } from '../../src/pki/leaf-keys';
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

  it('generates distinct keys whose SEC1 bytes are what OpenSSL itself encodes for them', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const sec1 = generateSec1Sync();
      const key = createPrivateKey({ key: sec1, format: 'der', type: 'sec1' });
      assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      assert.deepEqual(key.export({ type: 'sec1', format: 'der' }), sec1);
      seen.add(sec1.toString('hex'));
    }
    assert.equal(seen.size, 20);
  });

  it('pads a private scalar with leading zero octets to the 32 that SEC1 holds', () => {
    // About one key in 256 has a scalar whose first octet is zero; ECDH gives it without that
    // octet. OpenSSL's own SEC1 encoding of the same key, imported as a JWK, is the reference.
    // (Not generateKeyPairSync + a JWK export: Node 20 can deadlock when a GC during the export
    // frees the key's generation job, which takes the lock the export holds.)
    const ecdh = createECDH('prime256v1');
    let found = 0;
    for (let i = 0; i < 20_000 && found < 2; i++) {
      ecdh.generateKeys();
      const scalar = ecdh.getPrivateKey();
      if (scalar.length === 32) continue;
      found++;
      const point = ecdh.getPublicKey();
      const sec1 = Buffer.alloc(SEC1_P256_LENGTH);
      writeSec1(sec1, 0, scalar, point);
      const padded = Buffer.concat([Buffer.alloc(32 - scalar.length), scalar]);
      const jwk = { kty: 'EC', crv: 'P-256', d: padded.toString('base64url'), x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
      assert.deepEqual(sec1, createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'sec1', format: 'der' }));
    }
    assert.equal(found, 2);
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
