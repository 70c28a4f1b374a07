import { strict as assert } from 'node:assert';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { AdminServer, actionAllowed, isLoopbackAddress, type StatusDocument } from '../../src/admin/server';
import type { ConfigDump } from '../../src/admin/config-dump';
import { TypeUrl } from '../../src/xds/type-urls';
import { BACK, FRONT, GATEWAY, SECRET_NAME, http, proxylessNode, startHarness, until, type Harness } from './harness';

const TOKEN = 'admin-token-for-tests';

describe('admin/server', () => {
  let h: Harness;
  const calls: string[] = [];
  let ready: Record<string, boolean | string>;

  beforeEach(async () => {
    calls.length = 0;
    ready = { 'specs loaded': true, 'CA ready': 'CA key not generated yet', 'listeners bound': true };
    h = await startHarness({
      adminToken: TOKEN,
      readiness: Object.keys(ready).map((name) => ({ name, check: () => ready[name]! })),
      actions: {
        rotate: async (nodeKey) => { calls.push(`rotate ${nodeKey ?? '*'}`); return { message: 'leaves re-issued', count: nodeKey ? 1 : 3 }; },
        caRollover: async () => { calls.push('rollover'); return { message: 'rollover started' }; },
      },
    });
  });
  afterEach(async () => { await h.close(); });

  it('answers /healthz, and /readyz only when every check passes, naming those that fail', async () => {
    const health = await http(h, '/healthz');
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).status, 'ok');
    const notReady = await http(h, '/readyz');
    assert.equal(notReady.status, 503);
    const body = JSON.parse(notReady.body) as { ready: boolean; failing: string[]; checks: { name: string; ok: boolean; detail?: string }[] };
    assert.deepEqual(body.failing, ['CA ready']);
    assert.equal(body.checks.find((c) => c.name === 'CA ready')!.detail, 'CA key not generated yet');
    ready['CA ready'] = true;
    const nowReady = await http(h, '/readyz');
    assert.equal(nowReady.status, 200);
    assert.equal(JSON.parse(nowReady.body).ready, true);
  });

  it('answers unknown paths 404 and wrong methods 405, as JSON errors', async () => {
    const missing = await http(h, '/nope');
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.body).error, /\/nope/);
    const wrong = await http(h, '/status', { method: 'POST' });
    assert.equal(wrong.status, 405);
    assert.match(JSON.parse(wrong.body).error, /POST is not allowed on \/status/);
    assert.equal((await http(h, '/rotate')).status, 405);
  });

  it('shows connected proxies, the mesh revision, the last refused change and secret holders in /status', async () => {
    const front = h.stream(FRONT, { service: 'sds', transport: 'unix' });
    front.ack(await front.next());
    const ads = h.stream(FRONT);
    ads.ack(await ads.next());
    h.mesh.lastRefused = { at: new Date().toISOString(), errors: ['nodes.yaml: VirtualNode front: spec.listeners[0].tls.mode: must be STRICT, PERMISSIVE or DISABLED'] };
    const doc = await until(async () => {
      const d = JSON.parse((await http(h, '/status')).body) as StatusDocument;
      return d.proxies.length === 2 && d.proxies.every((p) => p.types[0]?.state === 'synced') ? d : undefined;
    }, 'both streams synced');
    assert.deepEqual(doc.proxies.map((p) => `${p.service}/${p.transport}`).sort(), ['ADS/tcp', 'SDS/unix']);
    assert.equal(doc.mesh!.revision, 'rev-1');
    assert.match(doc.mesh!.lastRefused!.errors[0]!, /spec\.listeners\[0\]\.tls\.mode/);
    const [secret] = doc.secrets;
    assert.equal(secret!.name, SECRET_NAME);
    assert.equal(secret!.serial, h.certificate.serial);
    assert.deepEqual(secret!.sans, h.certificate.sans);
    assert.equal(secret!.notAfter, h.certificate.notAfter.toISOString());
    assert.deepEqual(secret!.holders, [{ nodeId: FRONT, version: h.cache.getSnapshot(FRONT)!.get(TypeUrl.Secret)!.version }]);
  });

  it('dumps what a node would be served, decoded, with its credential redacted and secrets without keys', async () => {
    const response = await http(h, `/config_dump?node=${encodeURIComponent(`arn:aws:appmesh:us-east-1:111122223333:${BACK}`)}`);
    assert.equal(response.status, 200);
    const dump = JSON.parse(response.body) as ConfigDump;
    assert.equal(dump.endpoint, BACK);
    assert.deepEqual(dump.configs.map((c) => c.type), ['SDS', 'CDS', 'EDS', 'LDS', 'RDS']);
    const clusters = dump.configs.find((c) => c.type === 'CDS')!;
    assert.equal(clusters.version, h.cache.getSnapshot(BACK)!.get(TypeUrl.Cluster)!.version);
    const secure = clusters.resources.find((r) => r.name === 'secure-backend')!.resource as {
      transportSocket: { typedConfig: { '@type': string; commonTlsContext: { tlsCertificateSdsSecretConfigs: { sdsConfig: { apiConfigSource: { grpcServices: { initialMetadata: { key: string; value: string }[] }[] } } }[] } } };
    };
    assert.match(secure.transportSocket.typedConfig['@type'], /UpstreamTlsContext$/);
    const metadata = secure.transportSocket.typedConfig.commonTlsContext.tlsCertificateSdsSecretConfigs[0]!.sdsConfig.apiConfigSource.grpcServices[0]!.initialMetadata;
    assert.deepEqual(metadata, [{ key: CREDENTIAL_HEADER, value: '[redacted]' }]);
    const secretResource = dump.configs.find((c) => c.type === 'SDS')!.resources[0]!.resource as { tlsCertificate: { privateKey: unknown; certificateChain: { inlineString: string } } };
    assert.deepEqual(secretResource.tlsCertificate.privateKey, { inlineString: '[redacted]' });
    assert.match(secretResource.tlsCertificate.certificateChain.inlineString, /BEGIN CERTIFICATE/);
    assert.equal(dump.secrets[0]!.certificateChainPem, h.certificate.certPem);

    assert.equal((await http(h, '/config_dump')).status, 400);
    assert.match(JSON.parse((await http(h, '/config_dump?node=not-a-node')).body).error, /not a mesh endpoint/);
  });

  it('runs actions from loopback, and elsewhere only with the admin token', async () => {
    const fromLoopback = await http(h, `/rotate?node=${encodeURIComponent(FRONT)}`, { method: 'POST' });
    assert.equal(fromLoopback.status, 200);
    assert.deepEqual(JSON.parse(fromLoopback.body), { message: 'leaves re-issued', count: 1 });
    assert.deepEqual(calls, [`rotate ${FRONT}`]);

    // A request that is not from loopback: the same server, told not to trust loopback.
    const strict = new AdminServer({ registry: h.registry, metrics: h.metrics, snapshots: h.cache, adminToken: TOKEN, trustLoopback: false, actions: { caRollover: async () => { calls.push('rollover'); return { message: 'rollover started' }; } } });
    await strict.start();
    try {
      const post = (headers: Record<string, string>): Promise<Response> => fetch(`${strict.url}/ca/rollover`, { method: 'POST', headers });
      const bare = await post({});
      assert.equal(bare.status, 403);
      assert.match(((await bare.json()) as { error: string }).error, /admin token/);
      assert.equal((await post({ Authorization: 'Bearer wrong-token' })).status, 403);
      assert.equal((await post({ Authorization: TOKEN })).status, 403);
      assert.deepEqual(calls, [`rotate ${FRONT}`]);
      const withToken = await post({ Authorization: `Bearer ${TOKEN}` });
      assert.equal(withToken.status, 200);
      assert.deepEqual(calls, [`rotate ${FRONT}`, 'rollover']);
      // An action this meshd does not have.
      assert.equal((await fetch(`${strict.url}/rotate`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } })).status, 404);
    } finally {
      await strict.close();
    }
  });

  it('decides loopback and token access from the remote address', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopbackAddress(address), address);
    for (const address of ['10.0.0.5', '::ffff:10.0.0.5', '192.168.1.1', 'fe80::1', undefined]) assert.ok(!isLoopbackAddress(address), String(address));
    assert.ok(!actionAllowed({ remoteAddress: '10.0.0.5', authorization: undefined }, { adminToken: TOKEN }));
    assert.ok(actionAllowed({ remoteAddress: '10.0.0.5', authorization: `Bearer ${TOKEN}` }, { adminToken: TOKEN }));
    assert.ok(!actionAllowed({ remoteAddress: '10.0.0.5', authorization: 'Bearer ' }, {}));
  });

  it('refuses to bind a non-loopback address unless allowed', async () => {
    assert.throws(() => new AdminServer({ registry: h.registry, metrics: h.metrics, snapshots: h.cache, host: '0.0.0.0' }), /not loopback: pass --admin-public/);
    const open = new AdminServer({ registry: h.registry, metrics: h.metrics, snapshots: h.cache, host: '0.0.0.0', allowPublic: true });
    await open.start();
    await open.close();
  });

  it('never sends key material or node credentials, while both exist in the system', async () => {
    // The system really holds them: a TLS secret with a private key in every node's snapshot,
    // credentials on every stream (metadata, and node.metadata for the proxyless client).
    const secretBytes = h.cache.getSnapshot(FRONT)!.get(TypeUrl.Secret)!.resources.get(SECRET_NAME)!.value;
    assert.ok(Buffer.from(secretBytes).toString('latin1').includes('PRIVATE KEY'));
    const sds = h.stream(FRONT, { service: 'sds' });
    sds.ack(await sds.next());
    const ads = h.stream(BACK, { transport: 'unix' });
    const cds = await ads.next();
    ads.send({ typeUrl: TypeUrl.Cluster, versionInfo: '', responseNonce: cds.nonce, errorDetail: { code: 3, message: 'refused' } });
    const proxyless = h.client('tcp').sotw('ads');
    proxyless.send({ node: proxylessNode(GATEWAY, h.credentials.tokenFor(GATEWAY)), typeUrl: TypeUrl.Listener });
    await proxyless.next();
    await until(() => (h.registry.proxies().length === 3 ? true : undefined), 'three streams');

    const bodies: [string, string][] = [];
    for (const path of ['/healthz', '/readyz', '/metrics', '/status', ...[FRONT, BACK, GATEWAY].map((n) => `/config_dump?node=${encodeURIComponent(n)}`)]) {
      const response = await http(h, path);
      assert.ok(response.status === 200 || path === '/readyz', `${path}: ${response.status}`);
      bodies.push([path, response.body]);
    }
    const rotate = await http(h, '/rotate', { method: 'POST' });
    bodies.push(['/rotate', rotate.body]);
    assert.ok(bodies.find(([p]) => p === '/status')![1].includes(GATEWAY));
    for (const [path, body] of bodies) {
      assert.ok(!body.includes('PRIVATE KEY'), `${path} contains private key material`);
      for (const token of h.tokens()) assert.ok(!body.includes(token), `${path} contains a node credential`);
    }
  });

  it('withholds a response a leaking source would fill with key material', async () => {
    const leaky = new AdminServer({
      registry: h.registry, metrics: h.metrics, snapshots: h.cache,
      secretStatus: () => [{ name: 'bad', kind: 'certificate', version: '1', serial: '01', sans: [h.certificate.keyPem], notAfter: new Date().toISOString(), holders: [] }],
    });
    await leaky.start();
    try {
      const response = await fetch(`${leaky.url}/status`);
      assert.equal(response.status, 500);
      const text = await response.text();
      assert.ok(!text.includes('PRIVATE KEY'));
      assert.match(JSON.parse(text).error, /private key material/);
    } finally {
      await leaky.close();
    }
  });
});
