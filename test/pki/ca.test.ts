import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CertificateAuthority } from '../../src/pki/ca';
import { x509 } from '../../src/pki/x509';
import { capturingLogger, tempDir } from './helpers';
import { pemBlock, PKCS8_LABEL } from '../support/pem';

describe('pki/ca', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => { temp = tempDir('ca'); });
  afterEach(() => temp.cleanup());

  it('creates a self-signed P-256 root CA with CA:true, keyCertSign/cRLSign and ~10 years', async () => {
    const dir = path.join(temp.dir, 'state', 'ca');
    const ca = await CertificateAuthority.loadOrCreate({ dir, trustDomain: 'example.org' });
    const cert = new x509.X509Certificate(ca.certificatePem);
    assert.ok(cert.subject.includes('meshd') && cert.subject.includes('example.org'), cert.subject);
    assert.equal(cert.subject, cert.issuer);
    assert.ok(await cert.verify({ signatureOnly: true }));
    assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, true);
    const usages = cert.getExtension(x509.KeyUsagesExtension)!.usages;
    assert.ok(usages & x509.KeyUsageFlags.keyCertSign && usages & x509.KeyUsageFlags.cRLSign);
    assert.equal((cert.publicKey.algorithm as { namedCurve?: string }).namedCurve, 'P-256');
    const years = (ca.notAfter.getTime() - ca.notBefore.getTime()) / (365 * 24 * 3600 * 1000);
    assert.ok(years > 9.9 && years < 10.1, `${years} years`);
    assert.ok(ca.notBefore.getTime() <= Date.now());
  });

  it('is reused across restarts: same certificate bytes; key 0600, directory 0700', async () => {
    const dir = path.join(temp.dir, 'ca');
    const first = await CertificateAuthority.loadOrCreate({ dir, trustDomain: 'example.org' });
    const second = await CertificateAuthority.loadOrCreate({ dir, trustDomain: 'example.org' });
    assert.deepEqual(second.certificateDer, first.certificateDer);
    assert.equal(second.id, first.id);
    assert.equal(statSync(path.join(dir, 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(readFileSync(path.join(dir, 'ca.crt'), 'utf8'), first.certificatePem);
    // The reloaded key still signs for the same certificate.
    const signature = second.sign(Buffer.from('data'));
    const { verify } = await import('node:crypto');
    assert.ok(verify('sha256', Buffer.from('data'), new X509Certificate(first.certificatePem).publicKey, signature));
  });

  it('supports a P-384 CA', async () => {
    const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(temp.dir, 'ca'), trustDomain: 'example.org', keyAlgorithm: 'ecdsa-p384' });
    assert.equal(new X509Certificate(ca.certificatePem).publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
  });

  it('narrows a widened key file mode back to 0600 on load', async () => {
    const dir = path.join(temp.dir, 'ca');
    await CertificateAuthority.loadOrCreate({ dir, trustDomain: 'example.org' });
    const { chmodSync } = await import('node:fs');
    chmodSync(path.join(dir, 'ca.key'), 0o644);
    await CertificateAuthority.loadOrCreate({ dir, trustDomain: 'example.org' });
    assert.equal(statSync(path.join(dir, 'ca.key')).mode & 0o777, 0o600);
  });

  it('refuses a key that does not match, naming the file and never quoting the key', async () => {
    const dirA = path.join(temp.dir, 'a');
    const dirB = path.join(temp.dir, 'b');
    await CertificateAuthority.loadOrCreate({ dir: dirA, trustDomain: 'example.org' });
    await CertificateAuthority.loadOrCreate({ dir: dirB, trustDomain: 'example.org' });
    writeFileSync(path.join(dirA, 'ca.key'), readFileSync(path.join(dirB, 'ca.key')));
    await assert.rejects(CertificateAuthority.loadOrCreate({ dir: dirA, trustDomain: 'example.org' }), (err: Error) => {
      assert.ok(err.message.includes(path.join(dirA, 'ca.key')) && err.message.includes('does not match'), err.message);
      assert.ok(!err.message.includes('PRIVATE KEY'));
      return true;
    });
    writeFileSync(path.join(dirA, 'ca.key'), pemBlock(PKCS8_LABEL, 'bm90IGEga2V5'));
    await assert.rejects(CertificateAuthority.loadOrCreate({ dir: dirA, trustDomain: 'example.org' }), (err: Error) => !err.message.includes('PRIVATE KEY') && err.message.includes('not a parsable'));
  });

  it('never logs key material', async () => {
    const { log, lines } = capturingLogger();
    const dir = path.join(temp.dir, 'ca');
    const ca = await CertificateAuthority.loadOrCreate({ dir, trustDomain: 'example.org', log });
    await CertificateAuthority.loadOrCreate({ dir, trustDomain: 'example.org', log });
    assert.ok(lines.length >= 2 && lines.some((line) => line.includes(ca.id)));
    assert.ok(lines.every((line) => !line.includes('PRIVATE KEY')));
    assert.ok(!JSON.stringify(ca).includes('PRIVATE KEY'));
  });

  it('refuses a key whose certificate is gone instead of overwriting the key, naming the certificate file', async () => {
    const dir = path.join(temp.dir, 'ca');
    await CertificateAuthority.loadOrCreate({ dir, trustDomain: 'example.org' });
    const key = readFileSync(path.join(dir, 'ca.key'), 'utf8');
    rmSync(path.join(dir, 'ca.crt'));
    await assert.rejects(CertificateAuthority.loadOrCreate({ dir, trustDomain: 'example.org' }), (err: Error) => err.message.includes(path.join(dir, 'ca.crt')) && err.message.includes('missing'));
    assert.equal(readFileSync(path.join(dir, 'ca.key'), 'utf8'), key);
    assert.ok(!existsSync(path.join(dir, 'ca.crt')));
  });

  it('re-creates a lost certificate for the kept key: leaves signed now verify against the old certificate', async () => {
    const dir = path.join(temp.dir, 'ca');
    const original = await CertificateAuthority.loadOrCreate({ dir, trustDomain: 'example.org' });
    rmSync(path.join(dir, 'ca.crt'));
    const reissued = await CertificateAuthority.reissueCertificate({ dir, trustDomain: 'example.org' });
    assert.notEqual(reissued.serial, original.serial);
    assert.equal(reissued.subject, original.subject);
    const oldCert = new X509Certificate(original.certificatePem);
    assert.ok(new X509Certificate(reissued.certificatePem).publicKey.equals(oldCert.publicKey));
    const signature = reissued.sign(Buffer.from('tbs'));
    const { verify } = await import('node:crypto');
    assert.ok(verify('sha256', Buffer.from('tbs'), oldCert.publicKey, signature));
  });

  it('creates a CA whole or not at all: no temporary directory is left, and a directory of other files is refused', async () => {
    const parent = path.join(temp.dir, 'state');
    await CertificateAuthority.createAt({ dir: path.join(parent, 'ca-1'), trustDomain: 'example.org' });
    assert.deepEqual(readdirSync(parent), ['ca-1']);
    assert.deepEqual(readdirSync(path.join(parent, 'ca-1')).sort(), ['ca.crt', 'ca.key']);
    const busy = path.join(temp.dir, 'busy');
    await CertificateAuthority.createAt({ dir: path.join(busy, 'x'), trustDomain: 'example.org' });
    rmSync(path.join(busy, 'x', 'ca.crt'));
    rmSync(path.join(busy, 'x', 'ca.key'));
    writeFileSync(path.join(busy, 'x', 'leftover'), 'x');
    await assert.rejects(CertificateAuthority.createAt({ dir: path.join(busy, 'x'), trustDomain: 'example.org' }), /holds files but no CA/);
    assert.deepEqual(readdirSync(busy), ['x']);
  });
});
