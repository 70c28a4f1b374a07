import { strict as assert } from 'node:assert';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CertificateAuthority } from '../../src/pki/ca';
import { FileSecretSource, type Refusal } from '../../src/pki/file-source';
import { issueLeaf } from '../../src/pki/issuer';
import type { IssuedLeaf, MeshEndpoint, TlsCertificateMaterial, TrustBundleMaterial } from '../../src/pki/types';
import { capturingLogger, nextEvent, tempDir } from './helpers';

const TD = 'example.org';
const node: MeshEndpoint = { mesh: 'shop', kind: 'virtualNode', name: 'frontend', dnsNames: ['frontend.shop.local'] };

describe('pki/file-source', () => {
  let temp: ReturnType<typeof tempDir>;
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let source: FileSecretSource | undefined;
  let certFile: string;
  let keyFile: string;
  let logCapture: ReturnType<typeof capturingLogger>;
  const leaf = (options: { now?: Date; ttlMs?: number } = {}): Promise<IssuedLeaf> => issueLeaf(ca, node, { trustDomain: TD, ...options });
  const write = (file: string, text: string): void => writeFileSync(file, text, { mode: 0o600 });
  const atomicWrite = (file: string, text: string): void => {
    write(`${file}.new`, text);
    renameSync(`${file}.new`, file);
  };
  const nextCertificate = (serial: string): Promise<TlsCertificateMaterial> => nextEvent<TlsCertificateMaterial>(source!, 'certificate', (m) => m.serial === serial);
  const nextRefusal = (file: string, reason: RegExp): Promise<Refusal> => nextEvent<Refusal>(source!, 'refused', (r) => r.file === file && reason.test(r.reason));

  before(async () => {
    temp = tempDir('file-source-ca');
    ca = await CertificateAuthority.loadOrCreate({ dir: path.join(temp.dir, 'ca'), trustDomain: TD });
    otherCa = await CertificateAuthority.loadOrCreate({ dir: path.join(temp.dir, 'other'), trustDomain: TD });
  });
  after(() => temp.cleanup());

  let files: ReturnType<typeof tempDir>;
  let initial: IssuedLeaf;
  beforeEach(async () => {
    files = tempDir('file-source');
    certFile = path.join(files.dir, 'cert_chain.pem');
    keyFile = path.join(files.dir, 'private_key.pem');
    initial = await leaf();
    write(certFile, initial.certificateChainPem);
    write(keyFile, initial.privateKeyPem);
    logCapture = capturingLogger();
    source = new FileSecretSource({ name: 'frontend-cert', certificateChainFile: certFile, privateKeyFile: keyFile, log: logCapture.log });
    assert.equal(await source.start(), true);
  });
  afterEach(async () => {
    await source?.close();
    source = undefined;
    assert.ok(logCapture.lines.every((line) => !line.includes('PRIVATE KEY')), 'no key material in logs');
    files.cleanup();
  });

  it('serves the initial pair with a content version', () => {
    const material = source!.certificate!;
    assert.equal(material.serial, initial.serial);
    assert.equal(material.version, initial.version);
    assert.deepEqual(material.sans, initial.sans);
    assert.equal(source!.refusals, 0);
  });

  it('publishes an atomically replaced pair', async () => {
    const next = await leaf();
    const published = nextCertificate(next.serial);
    atomicWrite(keyFile, next.privateKeyPem);
    atomicWrite(certFile, next.certificateChainPem);
    assert.equal((await published).version, next.version);
    assert.equal(source!.certificate!.version, next.version);
  });

  it('publishes an in-place rewrite', async () => {
    const next = await leaf();
    const published = nextCertificate(next.serial);
    write(certFile, next.certificateChainPem);
    write(keyFile, next.privateKeyPem);
    assert.equal((await published).version, next.version);
  });

  for (const order of ['certificate first', 'key first'] as const) {
    it(`publishes the pair when the two files are replaced one at a time, ${order}`, async () => {
      const next = await leaf();
      const [firstFile, firstText, secondFile, secondText] = order === 'certificate first'
        ? [certFile, next.certificateChainPem, keyFile, next.privateKeyPem]
        : [keyFile, next.privateKeyPem, certFile, next.certificateChainPem];
      const mismatch = nextRefusal(keyFile, /does not match/);
      atomicWrite(firstFile, firstText);
      await mismatch; // the in-between state is refused...
      assert.equal(source!.certificate!.version, initial.version); // ...and the old pair is still served
      const published = nextCertificate(next.serial);
      atomicWrite(secondFile, secondText);
      assert.equal((await published).version, next.version);
    });
  }

  it('refuses a half-written certificate, then accepts it once complete', async () => {
    const next = await leaf();
    const refused = nextRefusal(certFile, /incomplete PEM/);
    write(certFile, next.certificateChainPem.slice(0, Math.floor(next.certificateChainPem.length / 2)));
    const refusal = await refused;
    assert.equal(refusal.secret, 'frontend-cert');
    assert.equal(source!.certificate!.version, initial.version);
    assert.ok(logCapture.lines.some((line) => line.includes(certFile) && line.includes('incomplete PEM')), 'one log line names the file and the reason');
    const published = nextCertificate(next.serial);
    write(keyFile, next.privateKeyPem);
    write(certFile, next.certificateChainPem);
    await published;
  });

  it('refuses a key that does not match and unparsable PEM, keeping the previous pair', async () => {
    const stranger = await issueLeaf(otherCa, node, { trustDomain: TD });
    const mismatch = nextRefusal(keyFile, /does not match/);
    atomicWrite(keyFile, stranger.privateKeyPem);
    await mismatch;
    const garbage = nextRefusal(certFile, /not a parsable X.509 certificate/);
    atomicWrite(certFile, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    await garbage;
    assert.equal(source!.certificate!.version, initial.version);
    assert.ok(source!.refusals >= 2);
  });

  it('refuses expired and not-yet-valid certificates', async () => {
    const expired = await leaf({ now: new Date(Date.now() - 30_000), ttlMs: 5000 });
    const refusedExpired = nextRefusal(certFile, /expired/);
    atomicWrite(keyFile, expired.privateKeyPem);
    atomicWrite(certFile, expired.certificateChainPem);
    await refusedExpired;
    assert.equal(source!.certificate!.version, initial.version);
    const future = await leaf({ now: new Date(Date.now() + 3600_000) });
    const refusedFuture = nextRefusal(certFile, /not yet valid/);
    atomicWrite(keyFile, future.privateKeyPem);
    atomicWrite(certFile, future.certificateChainPem);
    await refusedFuture;
    assert.equal(source!.certificate!.version, initial.version);
  });

  it('refuses a deleted file and recovers when it comes back', async () => {
    const refused = nextRefusal(keyFile, /does not exist/);
    rmSync(keyFile);
    await refused;
    assert.equal(source!.certificate!.version, initial.version);
    const next = await leaf();
    const published = nextCertificate(next.serial);
    atomicWrite(certFile, next.certificateChainPem);
    atomicWrite(keyFile, next.privateKeyPem);
    await published;
  });

  it('reports an initial load error and serves the files once they are valid', async () => {
    const missing = path.join(files.dir, 'missing.pem');
    const late = new FileSecretSource({ name: 'late', certificateChainFile: missing, privateKeyFile: keyFile, log: logCapture.log });
    const refusals: Refusal[] = [];
    late.on('refused', (refusal) => refusals.push(refusal));
    try {
      assert.equal(await late.start(), false);
      assert.equal(late.certificate, undefined);
      assert.deepEqual(refusals.map((r) => [r.file, r.reason]), [[missing, 'file does not exist (deleted?)']]);
      const published = nextEvent<TlsCertificateMaterial>(late, 'certificate');
      atomicWrite(missing, initial.certificateChainPem);
      assert.equal((await published).version, initial.version);
    } finally {
      await late.close();
    }
  });

  it('serves a CA bundle file on its own', async () => {
    const bundleFile = path.join(files.dir, 'ca_bundle.pem');
    write(bundleFile, ca.certificatePem);
    const bundle = new FileSecretSource({ name: 'bundle', trustedCaFile: bundleFile, log: logCapture.log });
    try {
      assert.equal(await bundle.start(), true);
      assert.deepEqual(bundle.trustBundle!.caSerials, [ca.serial]);
      const both = nextEvent<TrustBundleMaterial>(bundle, 'trustBundle');
      atomicWrite(bundleFile, ca.certificatePem + otherCa.certificatePem);
      assert.deepEqual((await both).caSerials, [ca.serial, otherCa.serial]);
      const refused = nextEvent<Refusal>(bundle, 'refused');
      write(bundleFile, 'not pem');
      assert.match((await refused).reason, /no PEM block/);
      // The refusal is decided before it is reported: the previous bundle is still the one served.
      assert.deepEqual(bundle.trustBundle!.caSerials, [ca.serial, otherCa.serial]);
    } finally {
      await bundle.close();
    }
  });
});
