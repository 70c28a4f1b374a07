import { strict as assert } from 'node:assert';
import { TrustAuthority } from '../../src/pki/authority';
import { EndpointCertificates, type CertificateChange } from '../../src/pki/endpoint-certificates';
import type { MeshEndpoint, TrustBundleMaterial } from '../../src/pki/types';
import { capturingLogger, mutualTlsHandshake, nextEvent, tempDir } from './helpers';

const TD = 'example.org';
const nodeA: MeshEndpoint = { mesh: 'shop', kind: 'virtualNode', name: 'frontend', dnsNames: ['frontend.shop.local'] };
const nodeB: MeshEndpoint = { mesh: 'shop', kind: 'virtualNode', name: 'backend', dnsNames: ['backend.shop.local'] };

describe('pki/endpoint-certificates', () => {
  let temp: ReturnType<typeof tempDir>;
  let authority: TrustAuthority;
  let certs: EndpointCertificates | undefined;
  const logCapture = capturingLogger();
  beforeEach(async () => {
    temp = tempDir('endpoint-certs');
    authority = await TrustAuthority.open({ stateDir: temp.dir, trustDomain: TD, autoFinishGraceMs: 0 });
  });
  afterEach(async () => {
    certs?.stop();
    certs = undefined;
    await authority.close();
    temp.cleanup();
  });

  it('issues on first request, once, even for concurrent requests', async () => {
    certs = new EndpointCertificates({ authority, log: logCapture.log });
    const events: CertificateChange[] = [];
    certs.on('certificate', (change) => events.push(change));
    const [first, second] = await Promise.all([certs.get(nodeA), certs.get(nodeA)]);
    assert.equal(first.serial, second.serial);
    assert.equal((await certs.get(nodeA)).serial, first.serial);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.endpointId, 'spiffe://example.org/mesh/shop/virtualNode/frontend');
    assert.equal(events[0]!.previousSerial, undefined);
    assert.equal(certs.current(events[0]!.endpointId)?.serial, first.serial);
    assert.deepEqual(certs.endpointIds(), [events[0]!.endpointId]);
    // Changed DNS names mean a new leaf with the new names.
    const renamed = await certs.get({ ...nodeA, dnsNames: ['web.shop.local'] });
    assert.notEqual(renamed.serial, first.serial);
    assert.deepEqual(renamed.sans.dnsNames, ['web.shop.local']);
  });

  it('re-issues when the SPIFFE ID the spec assigns changes, keyed by the default identity', async () => {
    certs = new EndpointCertificates({ authority, log: logCapture.log });
    const first = await certs.get(nodeA);
    const spire = await certs.get({ ...nodeA, spiffeId: 'spiffe://example.org/frontend' });
    assert.notEqual(spire.serial, first.serial);
    assert.deepEqual(spire.sans.uris, ['spiffe://example.org/frontend']);
    assert.equal(certs.current('spiffe://example.org/mesh/shop/virtualNode/frontend')?.serial, spire.serial);
    assert.equal((await certs.get({ ...nodeA, spiffeId: 'spiffe://example.org/frontend' })).serial, spire.serial, 'unchanged: no re-issue');
    assert.deepEqual((await certs.get(nodeA)).sans.uris, ['spiffe://example.org/mesh/shop/virtualNode/frontend']);
  });

  it('re-issues at the refresh fraction of a short lifetime, with a new serial and an event', async () => {
    certs = new EndpointCertificates({ authority, ttlMs: 2000, refreshFraction: 0.5, jitterFraction: 0.05, log: logCapture.log });
    const first = await certs.get(nodeA);
    const change = await nextEvent<CertificateChange>(certs, 'certificate');
    assert.equal(change.previousSerial, first.serial);
    assert.notEqual(change.leaf.serial, first.serial);
    // Renewed before the old leaf expired.
    assert.ok(Date.now() < first.notAfter.getTime() + 1000);
    assert.equal(certs.current(nodeA)?.serial, change.leaf.serial);
    const again = await nextEvent<CertificateChange>(certs, 'certificate');
    assert.equal(again.previousSerial, change.leaf.serial);
  });

  it('rotate() re-issues now, for one endpoint or all, and rotated leaves still do mTLS', async () => {
    certs = new EndpointCertificates({ authority, log: logCapture.log });
    const a1 = await certs.get(nodeA);
    const b1 = await certs.get(nodeB);
    const events: CertificateChange[] = [];
    certs.on('certificate', (change) => events.push(change));
    const [a2] = await certs.rotate(nodeA);
    assert.notEqual(a2!.serial, a1.serial);
    assert.deepEqual(events.map((e) => [e.endpoint.name, e.previousSerial, e.leaf.serial]), [['frontend', a1.serial, a2!.serial]]);
    assert.equal(certs.current(nodeB)?.serial, b1.serial);
    const all = await certs.rotate();
    assert.equal(all.length, 2);
    assert.equal(events.length, 3);
    const a3 = certs.current(nodeA)!;
    const b3 = certs.current(nodeB)!;
    assert.ok(![a1.serial, a2!.serial].includes(a3.serial) && b3.serial !== b1.serial);
    const bundle = certs.trustBundle().trustedCaPem;
    const result = await mutualTlsHandshake({ cert: a3.certificateChainPem, key: a3.privateKeyPem, ca: bundle }, { cert: b3.certificateChainPem, key: b3.privateKeyPem, ca: bundle }, { servername: 'frontend.shop.local' });
    assert.equal(result.ok, true, result.error);
    assert.equal(result.clientSawServerSerial, a3.serial);
    await assert.rejects(certs.rotate('spiffe://example.org/mesh/shop/virtualNode/unknown'), /no certificate has been issued/);
  });

  it('on a CA rollover: bundle event, leaves re-issued from the new CA, then the old CA is dropped', async () => {
    certs = new EndpointCertificates({ authority, rolloverReissueDelayMs: 0, log: logCapture.log });
    const a1 = await certs.get(nodeA);
    const b1 = await certs.get(nodeB);
    const bundles: TrustBundleMaterial[] = [];
    certs.on('trustBundle', (bundle) => bundles.push(bundle));
    const reissued = new Set<string>();
    const bothReissued = new Promise<void>((resolve) => certs!.on('certificate', (change) => {
      reissued.add(change.endpoint.name);
      if (reissued.size === 2) resolve();
    }));
    const finished = nextEvent<unknown>(authority, 'rolloverFinished');
    await authority.startRollover();
    await bothReissued;
    await finished;
    assert.equal(bundles.length, 2, 'one bundle with both CAs, then one with the new CA only');
    assert.equal(bundles[0]!.caSerials.length, 2);
    assert.deepEqual(bundles[1]!.caSerials, [authority.currentCa.serial]);
    const a2 = certs.current(nodeA)!;
    const b2 = certs.current(nodeB)!;
    assert.equal(a2.caId, authority.currentCa.id);
    assert.equal(b2.caId, authority.currentCa.id);
    assert.notEqual(a2.caId, a1.caId);
    assert.notEqual(b2.serial, b1.serial);
  });

  it('stop() clears every timer: no re-issue afterwards', async () => {
    certs = new EndpointCertificates({ authority, ttlMs: 1000, refreshFraction: 0.5, jitterFraction: 0, log: logCapture.log });
    await certs.get(nodeA);
    let events = 0;
    certs.on('certificate', () => events++);
    certs.stop();
    // A twin with the same schedule shows when the stopped one would have re-issued: wait for it.
    const twin = new EndpointCertificates({ authority, ttlMs: 1000, refreshFraction: 0.5, jitterFraction: 0, log: logCapture.log });
    try {
      const first = await twin.get(nodeA);
      const renewal = await nextEvent<CertificateChange>(twin, 'certificate');
      assert.notEqual(renewal.leaf.serial, first.serial, 'the twin re-issued on schedule');
    } finally {
      twin.stop();
    }
    assert.equal(events, 0);
    await assert.rejects(certs.get(nodeB), /stopped/);
    assert.ok(logCapture.lines.length > 0 && logCapture.lines.every((line) => !line.includes('PRIVATE KEY')));
  });
});
