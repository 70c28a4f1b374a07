import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { resolveSdsSocketPath } from '../../src/sds/sds-server';
import { startSdsEnv, stopSdsEnv, TD, type SdsEnv } from '../support/sds-env';
import { TypeUrl } from '../../src/xds/type-urls';
import { decodeResource, XdsTestClient } from '../support/xds-client';
import { messageType } from '../../src/xds/protos';

interface DecodedAnyLike { type_url: string; value: Uint8Array }
import { mtlsConnect, SdsProxy, startMtlsServer } from '../support/sds-proxy';

const FRONT = 'mesh/demo/virtualNode/front';
const BACK = 'mesh/demo/virtualNode/back';

describe('sds/sds-server', function () {
  this.timeout(60_000);
  let env: SdsEnv;
  const proxies: SdsProxy[] = [];
  const proxy = (node: string, names?: string[]): SdsProxy => {
    const p = new SdsProxy(env.socketPath, node, env.credentials.tokenFor(node), names);
    proxies.push(p);
    return p;
  };

  beforeEach(async () => { env = await startSdsEnv(); });
  afterEach(async () => {
    proxies.splice(0).forEach((p) => p.close());
    await stopSdsEnv(env);
  });

  it('resolves the socket path from the flag, then APPMESH_SDS_SOCKET_PATH, then the state dir', () => {
    assert.equal(resolveSdsSocketPath('/a/b.sock', '/s', { APPMESH_SDS_SOCKET_PATH: '/x.sock' }), '/a/b.sock');
    assert.equal(resolveSdsSocketPath(undefined, '/s', { APPMESH_SDS_SOCKET_PATH: '/x.sock' }), '/x.sock');
    assert.equal(resolveSdsSocketPath(undefined, '/s', {}), '/s/sds.sock');
  });

  it('listens on a 0600 socket inside a 0700 directory', () => {
    assert.equal(fs.statSync(env.socketPath).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(env.socketPath)).mode & 0o777, 0o700);
  });

  it('delivers certificates that complete a real mutual-TLS handshake, and carry the SPIFFE identity', async () => {
    const front = proxy(FRONT);
    const back = proxy(BACK);
    await front.until(() => true);
    const b = await back.until(() => true);
    const { server, port, peers } = await startMtlsServer(front);
    try {
      const serial = await mtlsConnect(port, { cert: b.certificateChainPem, key: b.privateKeyPem, ca: b.trustedCaPem }, `spiffe://${TD}/${FRONT}`);
      assert.equal(serial, front.material!.serial);
      assert.match(peers[0]!, new RegExp(`URI:spiffe://${TD}/${BACK.replace(/\//g, '\\/')}`));
      assert.match(peers[0]!, /DNS:back\.demo\.local/);
    } finally {
      server.close();
    }
  });

  it('serves the same secrets under SPIRE names (SPIFFE ID and trust domain)', async () => {
    const spire = proxy(FRONT, [`spiffe://${TD}/${FRONT}`, `spiffe://${TD}`]);
    const m = await spire.until(() => true);
    assert.ok(m.certificateChainPem.includes('BEGIN CERTIFICATE'));
    assert.deepEqual(spire.received.map((s) => s.name).sort(), [`spiffe://${TD}`, `spiffe://${TD}/${FRONT}`]);
  });

  it('fails the handshake for a client certificate from a foreign CA, and for a SAN not expected', async () => {
    const front = proxy(FRONT);
    const back = proxy(BACK);
    await front.until(() => true);
    const b = await back.until(() => true);
    const foreign = await startSdsEnv();
    const outsider = new SdsProxy(foreign.socketPath, BACK, foreign.credentials.tokenFor(BACK));
    const { server, port } = await startMtlsServer(front);
    try {
      const o = await outsider.until(() => true);
      await assert.rejects(mtlsConnect(port, { cert: o.certificateChainPem, key: o.privateKeyPem, ca: b.trustedCaPem }));
      await assert.rejects(mtlsConnect(port, { cert: b.certificateChainPem, key: b.privateKeyPem, ca: b.trustedCaPem }, `spiffe://${TD}/mesh/demo/virtualNode/someone-else`), /does not name/);
    } finally {
      server.close();
      outsider.close();
      await stopSdsEnv(foreign);
    }
  });

  it('refuses streams without a valid credential: PERMISSION_DENIED and no secret bytes', async () => {
    const client = new XdsTestClient(`unix:${env.socketPath}`);
    try {
      for (const token of [undefined, env.credentials.tokenFor(BACK)]) {
        const metadata = new grpc.Metadata();
        if (token) metadata.set(CREDENTIAL_HEADER, token);
        const stream = client.sotw('sds', metadata);
        stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Secret, resourceNames: ['default'] });
        const status = await stream.inbox.ended();
        assert.equal(status.code, grpc.status.PERMISSION_DENIED);
        assert.equal(stream.inbox.pendingCount(), 0);
      }
    } finally {
      client.close();
    }
  });

  it('refuses a credentialed node that is not an endpoint of the current mesh: NOT_FOUND, and issues it nothing', async () => {
    const ghost = 'mesh/demo/virtualNode/ghost';
    env.policies.set(ghost, undefined);
    const client = new XdsTestClient(`unix:${env.socketPath}`);
    try {
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, env.credentials.tokenFor(ghost));
      const stream = client.sotw('sds', metadata);
      stream.send({ node: { id: ghost }, typeUrl: TypeUrl.Secret, resourceNames: ['default', 'ROOTCA'] });
      const status = await stream.inbox.ended();
      assert.equal(status.code, grpc.status.NOT_FOUND);
      assert.equal(status.details, `${ghost} is not an endpoint of the current mesh (no valid spec declares it): meshd issues certificates only to the virtual nodes and gateways of its mesh`);
      assert.equal(stream.inbox.pendingCount(), 0);
      assert.deepEqual(env.certificates.endpointIds(), [], 'no certificate was issued');
    } finally {
      client.close();
    }
  });

  it('refuses another node\'s secret by name, logs it, and keeps the stream and its own secrets', async () => {
    const back = proxy(BACK);
    const backMaterial = await back.until(() => true);
    const greedy = proxy(FRONT, ['default', 'ROOTCA', `spiffe://${TD}/${BACK}`]);
    const mine = await greedy.until(() => true);
    assert.notEqual(mine.privateKeyPem, backMaterial.privateKeyPem);
    const names = greedy.received.map((s) => s.name);
    assert.ok(!names.includes(`spiffe://${TD}/${BACK}`), 'the other node\'s secret was not sent');
    for (const secret of greedy.received) {
      assert.ok(!JSON.stringify(secret).includes(backMaterial.privateKeyPem.split('\n')[1]!), 'no byte of the other node\'s key');
    }
    assert.ok(env.rejected.some((r) => r.includes(`not entitled to SDS spiffe://${TD}/${BACK}`)));
  });

  it('answers FetchSecrets with the node\'s own secret and refuses another node\'s', async () => {
    const client = new grpc.Client(`unix:${env.socketPath}`, grpc.credentials.createInsecure());
    const Request = messageType('envoy.service.discovery.v3.DiscoveryRequest');
    const Response = messageType('envoy.service.discovery.v3.DiscoveryResponse');
    const fetch = (names: string[]): Promise<{ err: grpc.ServiceError | null; names: string[] }> => new Promise((resolve) => {
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, env.credentials.tokenFor(FRONT));
      const body = Buffer.from(Request.encode(Request.fromObject({ node: { id: FRONT }, resourceNames: names })).finish());
      client.makeUnaryRequest('/envoy.service.secret.v3.SecretDiscoveryService/FetchSecrets', (b: Buffer) => b, (b: Buffer) => b, body, metadata, (err, value) => {
        const response = value ? (Response.decode(value) as unknown as { resources: DecodedAnyLike[] }) : { resources: [] };
        resolve({ err, names: response.resources.map((r) => decodeResource<{ name: string }>({ typeUrl: r.type_url, value: r.value }).name) });
      });
    });
    try {
      const own = await fetch(['default']);
      assert.equal(own.err, null);
      assert.deepEqual(own.names, ['default']);
      const other = await fetch([`spiffe://${TD}/${BACK}`]);
      assert.equal(other.err?.code, grpc.status.PERMISSION_DENIED);
    } finally {
      client.close();
    }
  });

  it('pushes a rotated leaf to the subscribed stream, and Delta SDS works the same', async () => {
    const front = proxy(FRONT);
    const before = await front.until(() => true);
    const client = new XdsTestClient(`unix:${env.socketPath}`);
    try {
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, env.credentials.tokenFor(FRONT));
      const delta = client.delta('sdsDelta', metadata);
      delta.send({ node: { id: FRONT }, typeUrl: TypeUrl.Secret, resourceNamesSubscribe: ['default'] });
      const first = await delta.next();
      assert.deepEqual(first.resources.map((r) => r.name), ['default']);
      delta.ack(first);
      await env.certificates.rotate(`spiffe://${TD}/${FRONT}`);
      const after = await front.until((m) => m.serial !== before.serial);
      assert.notEqual(after.privateKeyPem, before.privateKeyPem);
      const pushed = await delta.next();
      const secret = decodeResource<{ tlsCertificate: { certificateChain: { inlineString: string } } }>(pushed.resources[0]!.resource!);
      assert.equal(secret.tlsCertificate.certificateChain.inlineString, after.certificateChainPem);
    } finally {
      client.close();
    }
  });

  it('keeps every connection working while leaves rotate and the CA rolls over, and new connections present new serials', async () => {
    const front = proxy(FRONT);
    const back = proxy(BACK);
    await front.until(() => true);
    await back.until(() => true);
    const { server, port } = await startMtlsServer(front);
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const seenSerials = new Set<string>();
    const traffic = (async () => {
      while (!stop) {
        const m = back.material!;
        try {
          seenSerials.add(await mtlsConnect(port, { cert: m.certificateChainPem, key: m.privateKeyPem, ca: m.trustedCaPem }, `spiffe://${TD}/${FRONT}`));
          ok++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    })();
    try {
      const expectNewServerSerial = async (previous: string): Promise<string> => {
        const m = await front.until((x) => x.serial !== previous);
        await back.until((x) => x.trustedCaPem === front.material!.trustedCaPem);
        const deadline = Date.now() + 10_000;
        while (!seenSerials.has(m.serial)) {
          if (Date.now() > deadline) throw new Error(`no connection presented serial ${m.serial}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        return m.serial;
      };
      let serial = front.material!.serial;
      for (let i = 0; i < 2; i++) {
        await env.certificates.rotate();
        serial = await expectNewServerSerial(serial);
      }
      const bundleBefore = front.material!.trustedCaPem;
      await env.authority.startRollover();
      // The bundle with both CAs reaches proxies first; then leaves come from the new CA.
      await front.until((m) => m.trustedCaPem !== bundleBefore);
      serial = await expectNewServerSerial(serial);
      assert.equal(await env.authority.finishRollover(), true);
      await front.until((m) => (m.trustedCaPem.match(/BEGIN CERTIFICATE/g) ?? []).length === 1);
      await back.until((m) => (m.trustedCaPem.match(/BEGIN CERTIFICATE/g) ?? []).length === 1);
      // Traffic still flows after the rollover finished: wait for more successful connections.
      const okBefore = ok;
      const flowDeadline = Date.now() + 10_000;
      while (ok <= okBefore + 3 && failures.length === 0 && Date.now() < flowDeadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(ok > okBefore + 3, 'traffic still flows after the rollover finished');
    } finally {
      stop = true;
      await traffic;
      server.close();
    }
    assert.deepEqual(failures, []);
    assert.ok(ok > 20, `only ${ok} connections were made`);
  });

  it('stops renewing an endpoint\'s leaf once it has had no subscriber for the grace period, and issues anew on return', async () => {
    proxies.splice(0).forEach((p) => p.close());
    await stopSdsEnv(env);
    env = await startSdsEnv(undefined, undefined, 300);
    const first = proxy(FRONT);
    const before = await first.until(() => true);
    const id = `spiffe://${TD}/${FRONT}`;
    assert.ok(env.certificates.current(id));
    first.close();
    const deadline = Date.now() + 5000;
    while (env.certificates.current(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(env.certificates.current(id), undefined, 'forgotten after the grace period');
    const back = proxy(FRONT);
    const after = await back.until(() => true);
    assert.notEqual(after.serial, before.serial);
  });

  it('reuses the CA across a restart on the same state directory', async () => {
    const front = proxy(FRONT);
    const before = await front.until(() => true);
    proxies.splice(0).forEach((p) => p.close());
    await stopSdsEnv(env, false);
    env = await startSdsEnv(env.dir);
    const again = proxy(FRONT);
    const after = await again.until(() => true);
    assert.equal(after.trustedCaPem, before.trustedCaPem);
  });
});
