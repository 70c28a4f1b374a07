import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { mtlsConnect, SdsProxy, startMtlsServer } from '../support/sds-proxy';
import { startSdsEnv, stopSdsEnv, TD, type SdsEnv } from '../support/sds-env';

// The secret cache through the real SDS server on its Unix socket: which leaf a node gets under
// which names, when the mesh model assigns identities (SPIRE style) or drops the endpoint.
const FRONT = 'mesh/demo/virtualNode/front';
const BACK = 'mesh/demo/virtualNode/back';
const FRONT_ID = `spiffe://${TD}/front`;
const BACK_ID = `spiffe://${TD}/colorblue`;
const BUNDLE = `spiffe://${TD}`;

function uriSans(pem: string): string[] {
  return (new X509Certificate(pem).subjectAltName ?? '').split(', ').filter((san) => san.startsWith('URI:')).map((san) => san.slice(4));
}

describe('sds/secret-cache', function () {
  this.timeout(30_000);
  let env: SdsEnv;
  const proxies: SdsProxy[] = [];
  const proxy = (node: string, names: string[]): SdsProxy => {
    const p = new SdsProxy(env.socketPath, node, env.credentials.tokenFor(node), names);
    proxies.push(p);
    return p;
  };

  beforeEach(async () => {
    env = await startSdsEnv();
    env.policies.set(FRONT, { dnsNames: ['front.demo.local'], fileSecrets: [], spiffeId: FRONT_ID });
    env.policies.set(BACK, { dnsNames: ['back.demo.local'], fileSecrets: [], spiffeId: BACK_ID });
  });
  afterEach(async () => {
    proxies.splice(0).forEach((p) => p.close());
    await stopSdsEnv(env);
  });

  it('serves a leaf under the SPIFFE ID the spec assigns, with exactly that URI SAN, and the bundle under the trust domain', async () => {
    const front = proxy(FRONT, [FRONT_ID, BUNDLE]);
    const back = proxy(BACK, [BACK_ID, BUNDLE]);
    const f = await front.until(() => true);
    const b = await back.until(() => true);
    assert.deepEqual(front.received.map((s) => s.name).sort(), [BUNDLE, FRONT_ID]);
    assert.deepEqual(uriSans(f.certificateChainPem), [FRONT_ID]);
    assert.deepEqual(uriSans(b.certificateChainPem), [BACK_ID]);
    // A real mutual-TLS handshake: back calls front and checks front's SAN against its SPIFFE ID;
    // front sees back's.
    const { server, port, peers } = await startMtlsServer(front);
    try {
      const serial = await mtlsConnect(port, { cert: b.certificateChainPem, key: b.privateKeyPem, ca: b.trustedCaPem }, FRONT_ID);
      assert.equal(serial, f.serial);
      assert.match(peers[0]!, new RegExp(`URI:${BACK_ID.replace(/[/.]/g, '\\$&')}`));
      await assert.rejects(mtlsConnect(port, { cert: b.certificateChainPem, key: b.privateKeyPem, ca: b.trustedCaPem }, `spiffe://${TD}/${FRONT}`), /does not name/);
    } finally {
      server.close();
    }
  });

  it('refuses that name to another node, and the default identity name to the node the spec renamed', async () => {
    const front = proxy(FRONT, ['default', 'ROOTCA']);
    const f = await front.until(() => true);
    const greedy = proxy(BACK, ['default', 'ROOTCA', FRONT_ID, `spiffe://${TD}/${BACK}`]);
    const own = await greedy.until(() => true);
    assert.deepEqual(greedy.received.map((s) => s.name).sort(), ['ROOTCA', 'default']);
    assert.notEqual(own.privateKeyPem, f.privateKeyPem);
    // One report per request, naming the refused names.
    const refusal = (name: string): boolean => env.rejected.some((r) => r.startsWith('not entitled to SDS ') && r.includes(name));
    assert.ok(refusal(FRONT_ID), env.rejected.join('\n'));
    assert.ok(refusal(`spiffe://${TD}/${BACK}`), env.rejected.join('\n'));
  });

  it('refuses exactly the names entitledNames leaves out, for watched and unwatched nodes and nodes out of the mesh', async () => {
    env.policies.set(BACK, { dnsNames: [], fileSecrets: ['db-cert', 'partner-ca'], spiffeId: BACK_ID });
    const asked = ['default', 'ROOTCA', BUNDLE, FRONT_ID, BACK_ID, `spiffe://${TD}/${FRONT}`, `spiffe://${TD}/${BACK}`, 'db-cert', 'partner-ca', 'other', 'spiffe://other.org'];
    const front = proxy(FRONT, ['default', 'ROOTCA']);
    await front.until(() => true); // FRONT is watched now, BACK is not
    env.policies.set('mesh/demo/virtualNode/gone', undefined);
    for (const node of [FRONT, BACK, 'mesh/demo/virtualNode/gone', 'not a node id']) {
      const entitled = env.secrets.entitledNames(node);
      assert.deepEqual(env.secrets.refusedNames(node, 'type', asked), asked.filter((name) => !entitled.has(name)), node);
    }
    assert.deepEqual(env.secrets.refusedNames(BACK, 'type', asked), [FRONT_ID, `spiffe://${TD}/${FRONT}`, `spiffe://${TD}/${BACK}`, 'other', 'spiffe://other.org']);
    assert.deepEqual(env.secrets.refusedNames('mesh/demo/virtualNode/gone', 'type', asked), asked);
  });

  it('re-issues when the spec assigns the endpoint another identity', async () => {
    env.policies.delete(FRONT); // the default identity first
    const front = proxy(FRONT, ['default', 'ROOTCA']);
    const before = await front.until(() => true);
    assert.deepEqual(uriSans(before.certificateChainPem), [`spiffe://${TD}/${FRONT}`]);
    env.policies.set(FRONT, { dnsNames: ['front.demo.local'], fileSecrets: [], spiffeId: FRONT_ID });
    env.secrets.refreshAll(); // what a mesh change does
    const after = await front.until((m) => m.serial !== before.serial);
    assert.deepEqual(uriSans(after.certificateChainPem), [FRONT_ID]);
  });

  it('issues nothing more for a node whose endpoint left the mesh', async () => {
    const front = proxy(FRONT, ['default', 'ROOTCA']);
    await front.until(() => true);
    const key = `spiffe://${TD}/${FRONT}`;
    env.policies.set(FRONT, undefined);
    env.certificates.remove(key); // what meshd does when the endpoint leaves the mesh
    env.secrets.refreshAll();
    assert.equal(env.certificates.current(key), undefined);
    assert.deepEqual(env.certificates.endpointIds(), []);
  });
});
