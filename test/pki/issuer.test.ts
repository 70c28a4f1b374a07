import { strict as assert } from 'node:assert';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as path from 'node:path';
import { CertificateAuthority } from '../../src/pki/ca';
import { issueLeaf, subjectAltNameDer, subjectNameDer } from '../../src/pki/issuer';
import type { MeshEndpoint } from '../../src/pki/types';
import { x509 } from '../../src/pki/x509';
import { expectSpiffeId, mutualTlsHandshake, tempDir } from './helpers';
import { PKCS8_LABEL } from '../support/pem';

const TD = 'example.org';
const nodeA: MeshEndpoint = { mesh: 'shop', kind: 'virtualNode', name: 'frontend', dnsNames: ['frontend.shop.local'] };
const nodeB: MeshEndpoint = { mesh: 'shop', kind: 'virtualNode', name: 'backend', dnsNames: ['backend.shop.local'] };

describe('pki/issuer', () => {
  let temp: ReturnType<typeof tempDir>;
  let ca: CertificateAuthority;
  let foreignCa: CertificateAuthority;
  before(async () => {
    temp = tempDir('issuer');
    ca = await CertificateAuthority.loadOrCreate({ dir: path.join(temp.dir, 'ca'), trustDomain: TD });
    foreignCa = await CertificateAuthority.loadOrCreate({ dir: path.join(temp.dir, 'foreign'), trustDomain: 'foreign.org' });
  });
  after(() => temp.cleanup());

  it('issues a leaf with the SPIFFE URI and DNS SANs, TLS usages and a random positive serial', async () => {
    const leaf = await issueLeaf(ca, { mesh: 'shop', kind: 'virtualGateway', name: 'gw', dnsNames: ['gw.shop.local', 'shop.example.com'] }, { trustDomain: TD });
    const cert = new x509.X509Certificate(leaf.certificateChainPem);
    const sans = cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => `${n.type}:${n.value}`);
    assert.deepEqual(sans, ['url:spiffe://example.org/mesh/shop/virtualGateway/gw', 'dns:gw.shop.local', 'dns:shop.example.com']);
    assert.equal(leaf.spiffeId, 'spiffe://example.org/mesh/shop/virtualGateway/gw');
    assert.deepEqual(leaf.sans, { uris: [leaf.spiffeId], dnsNames: ['gw.shop.local', 'shop.example.com'] });
    assert.deepEqual([...cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages], [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    assert.equal(cert.getExtension(x509.KeyUsagesExtension)!.usages, x509.KeyUsageFlags.digitalSignature);
    assert.equal(cert.getExtension(x509.BasicConstraintsExtension)!.ca, false);
    assert.equal(cert.issuer, ca.subject);
    assert.ok(await cert.verify({ publicKey: new x509.X509Certificate(ca.certificatePem).publicKey, signatureOnly: true }));
    assert.equal(cert.serialNumber.toLowerCase(), leaf.serial);
    assert.ok(parseInt(leaf.serial.slice(0, 2), 16) < 0x80, 'serial is positive');
    assert.ok(new X509Certificate(leaf.certificateChainPem).checkPrivateKey(createPrivateKey(leaf.privateKeyPem)));
    assert.equal(createPrivateKey(leaf.privateKeyPem).asymmetricKeyType, 'ec');
    assert.ok(leaf.privateKeyPem.startsWith(`-----BEGIN ${PKCS8_LABEL}-----\n`), 'PKCS#8 PEM');
    assert.equal(leaf.caId, ca.id);
    const other = await issueLeaf(ca, nodeA, { trustDomain: TD });
    assert.notEqual(other.serial, leaf.serial);
    assert.notEqual(other.version, leaf.version);
  });

  it('issues a leaf whose only URI SAN is the SPIFFE ID the spec assigns (SPIRE style)', async () => {
    const leaf = await issueLeaf(ca, { ...nodeA, spiffeId: 'spiffe://example.org/ns/shop/sa/frontend' }, { trustDomain: TD });
    const cert = new x509.X509Certificate(leaf.certificateChainPem);
    const sans = cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => `${n.type}:${n.value}`);
    assert.deepEqual(sans, ['url:spiffe://example.org/ns/shop/sa/frontend', 'dns:frontend.shop.local']);
    assert.equal(leaf.spiffeId, 'spiffe://example.org/ns/shop/sa/frontend');
    // The same endpoint without an assigned identity gets its default one (no stale cached SANs).
    assert.equal((await issueLeaf(ca, nodeA, { trustDomain: TD })).spiffeId, 'spiffe://example.org/mesh/shop/virtualNode/frontend');
  });

  it('refuses an assigned SPIFFE ID outside its trust domain or SPIFFE syntax, naming the endpoint', async () => {
    await assert.rejects(issueLeaf(ca, { ...nodeA, spiffeId: 'spiffe://other.org/frontend' }, { trustDomain: TD }),
      /endpoint shop\/frontend: SPIFFE ID "spiffe:\/\/other.org\/frontend": must be in trust domain example.org/);
    await assert.rejects(issueLeaf(ca, { ...nodeA, spiffeId: 'spiffe://example.org/a/../b' }, { trustDomain: TD }), /path segment "\.\." is not SPIFFE ID syntax/);
    await assert.rejects(issueLeaf(ca, { ...nodeA, spiffeId: 'spiffe://example.org/' }, { trustDomain: TD }), /path segment "" is not SPIFFE ID syntax/);
  });

  it('honours short TTLs, backdates notBefore a little but never before the CA', async () => {
    const before = Date.now();
    const leaf = await issueLeaf(ca, nodeA, { trustDomain: TD, ttlMs: 3000 });
    const lifetimeFromNow = leaf.notAfter.getTime() - before;
    assert.ok(lifetimeFromNow > 1000 && lifetimeFromNow <= 3000, `${lifetimeFromNow} ms`);
    assert.ok(leaf.notBefore.getTime() < before);
    assert.ok(leaf.notBefore.getTime() >= ca.notBefore.getTime());
    const cert = new X509Certificate(leaf.certificateChainPem);
    assert.equal(Date.parse(cert.validTo), leaf.notAfter.getTime());
    assert.equal(Date.parse(cert.validFrom), leaf.notBefore.getTime());
    // Issued just after the CA was created, a leaf's notBefore is clamped to the CA's.
    const early = await issueLeaf(ca, nodeA, { trustDomain: TD, now: new Date(ca.notBefore.getTime() + 1000) });
    assert.equal(early.notBefore.getTime(), ca.notBefore.getTime());
  });

  it('encodes subject and SANs byte for byte as @peculiar/x509 does (PrintableString or UTF8String)', () => {
    for (const endpoint of [nodeA, { mesh: 'my_mesh', kind: 'virtualNode' as const, name: 'node_1', dnsNames: [] }, { mesh: 'm', kind: 'virtualGateway' as const, name: 'x'.repeat(80), dnsNames: ['*.a.example', 'b.example.'] }]) {
      const subject = new x509.Name([{ CN: [endpoint.name.slice(0, 64)] }, { O: [`meshd ${endpoint.mesh}`.slice(0, 64)] }]);
      assert.deepEqual(subjectNameDer(endpoint), Buffer.from(subject.toArrayBuffer()), endpoint.name);
      const spiffeId = `spiffe://${TD}/mesh/${endpoint.mesh}/${endpoint.kind}/${endpoint.name}`;
      const names = [{ type: 'url' as const, value: spiffeId }, ...endpoint.dnsNames.map((value) => ({ type: 'dns' as const, value }))];
      assert.deepEqual(subjectAltNameDer(spiffeId, endpoint.dnsNames), Buffer.from(new x509.SubjectAlternativeNameExtension(names, false).rawData), endpoint.name);
    }
  });

  it('rejects bad endpoints and TTLs with messages naming the field', async () => {
    await assert.rejects(issueLeaf(ca, { ...nodeA, name: 'a/b' }, { trustDomain: TD }), /endpoint name "a\/b"/);
    await assert.rejects(issueLeaf(ca, { ...nodeA, dnsNames: ['bad name'] }, { trustDomain: TD }), /DNS name "bad name"/);
    await assert.rejects(issueLeaf(ca, nodeA, { trustDomain: 'Bad Domain' }), /trust domain/);
    await assert.rejects(issueLeaf(ca, nodeA, { trustDomain: TD, ttlMs: 10 }), /TTL 10 ms/);
  });

  describe('mutual TLS with issued material (node:tls on loopback)', () => {
    it('succeeds between two endpoints of the same CA; the server sees the client SPIFFE ID', async () => {
      const a = await issueLeaf(ca, nodeA, { trustDomain: TD });
      const b = await issueLeaf(ca, nodeB, { trustDomain: TD });
      const result = await mutualTlsHandshake(
        { cert: a.certificateChainPem, key: a.privateKeyPem, ca: ca.certificatePem },
        { cert: b.certificateChainPem, key: b.privateKeyPem, ca: ca.certificatePem },
        { servername: 'frontend.shop.local' },
      );
      assert.equal(result.ok, true, result.error);
      assert.ok(result.serverSawPeerSans?.includes('URI:spiffe://example.org/mesh/shop/virtualNode/backend'), result.serverSawPeerSans);
      assert.equal(result.clientSawServerSerial, a.serial);
    });

    it('fails when the client certificate comes from a foreign CA', async () => {
      const a = await issueLeaf(ca, nodeA, { trustDomain: TD });
      const foreign = await issueLeaf(foreignCa, nodeB, { trustDomain: TD });
      const result = await mutualTlsHandshake(
        { cert: a.certificateChainPem, key: a.privateKeyPem, ca: ca.certificatePem },
        { cert: foreign.certificateChainPem, key: foreign.privateKeyPem, ca: ca.certificatePem },
        { servername: 'frontend.shop.local' },
      );
      assert.equal(result.ok, false);
      assert.equal(result.serverSawPeerSans, undefined);
    });

    it('checks the server SAN: DNS name and SPIFFE ID must match', async () => {
      const a = await issueLeaf(ca, nodeA, { trustDomain: TD });
      const b = await issueLeaf(ca, nodeB, { trustDomain: TD });
      const server = { cert: a.certificateChainPem, key: a.privateKeyPem, ca: ca.certificatePem };
      const client = { cert: b.certificateChainPem, key: b.privateKeyPem, ca: ca.certificatePem };
      const wrongDns = await mutualTlsHandshake(server, client, { servername: 'backend.shop.local' });
      assert.equal(wrongDns.ok, false);
      assert.match(wrongDns.error ?? '', /altnames/i);
      const wrongId = await mutualTlsHandshake(server, client, { checkServerIdentity: expectSpiffeId('spiffe://example.org/mesh/shop/virtualNode/backend') });
      assert.equal(wrongId.ok, false);
      assert.match(wrongId.error ?? '', /expected spiffe/);
      const rightId = await mutualTlsHandshake(server, client, { checkServerIdentity: expectSpiffeId(a.spiffeId) });
      assert.equal(rightId.ok, true, rightId.error);
    });
  });
});
