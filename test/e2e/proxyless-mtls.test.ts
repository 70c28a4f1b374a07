// The independent check of meshd's TLS output: @grpc/grpc-js-xds (gRFC A29/A36) does mutual TLS
// from what meshd serves a proxyless node, with certificate files kept by meshd's own agent.
// A STRICT mTLS server and a client whose policy pins the server's SPIFFE ID: RPCs succeed and the
// server sees the client's identity; a client pinning another SAN fails verification; plaintext
// and certificate-less TLS are refused; leaves rotate twice and the CA rolls over under a steady
// stream of RPCs without one failing, and new connections carry the new certificates.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { AgentWrite } from '../../src/agent/sds-file-agent';
import { grpcServerListenerName } from '../../src/translate';
import { TypeUrl } from '../../src/xds/type-urls';
import {
  clientNodeSpec, nodeProvidedServiceSpec, failure, freePort, MESH_SPEC, nodeIdOf, ProxylessEnv, serverNodeSpec, spiffeIdOf, until, who,
  type ProxylessNode,
} from './proxyless-harness';

const SERVICE = 'greeter.demo.local';

const latest = (node: ProxylessNode): AgentWrite => node.writes[node.writes.length - 1]!;

describe('e2e: proxyless gRPC mutual TLS (grpc-js-xds) from meshd', function () {
  this.timeout(60_000);
  let env: ProxylessEnv;
  let port: number;
  let greeter: ProxylessNode;
  let caller: ProxylessNode;

  before(async () => {
    port = await freePort();
    env = await ProxylessEnv.start({
      'mesh.yaml': MESH_SPEC,
      'greeter.yaml': `${serverNodeSpec('greeter', port, [spiffeIdOf('caller')])}---\n${nodeProvidedServiceSpec(SERVICE, 'greeter')}`,
      'caller.yaml': clientNodeSpec('caller', SERVICE, [spiffeIdOf('greeter')]),
      'impostor.yaml': clientNodeSpec('impostor', SERVICE, [spiffeIdOf('someone-else')]),
    });
    greeter = await env.node('greeter');
    caller = await env.node('caller');
    await env.server(greeter, port);
  });
  after(async () => {
    await env?.close();
  });

  it('serves the proxyless node the A36 server listeners for the addresses it may bind', () => {
    const snapshot = env.meshd.snapshotOf(nodeIdOf('greeter'))!;
    const names = [...snapshot.get(TypeUrl.Listener)!.resources.keys()].sort();
    assert.deepEqual(names, ['0.0.0.0', '::', '127.0.0.1'].map((address) => grpcServerListenerName(address, port)).sort());
  });

  it('STRICT mTLS: RPCs succeed and the server sees the client\'s SPIFFE ID in its peer certificate', async () => {
    const client = env.client(caller, SERVICE);
    const answer = await who(client);
    assert.equal(answer.server, 'greeter');
    assert.ok(answer.peerSans.split(', ').includes(`URI:${spiffeIdOf('caller')}`), answer.peerSans);
    assert.equal(answer.peerSerial, latest(caller).serial);
  });

  it('shows grpc-js-xds proxies in /status as the gRPC form, with the versions they ACKed', async () => {
    const client = env.client(caller, SERVICE);
    await who(client);
    const status = (await (await fetch(`${env.meshd.adminServer!.url}/status`)).json()) as {
      proxies: { nodeId: string; form: string; types: { type: string; state: string; sent?: { version: string }; acked?: { version: string } }[] }[];
    };
    const callerStreams = status.proxies.filter((p) => p.nodeId === 'mesh/demo/virtualNode/caller' && p.types.some((t) => t.type === 'LDS'));
    assert.ok(callerStreams.length > 0, JSON.stringify(status.proxies.map((p) => p.nodeId)));
    for (const proxy of callerStreams) {
      assert.equal(proxy.form, 'grpc');
      for (const type of proxy.types) {
        assert.equal(type.state, 'synced', `${type.type} ${JSON.stringify(type)}`);
        assert.equal(type.acked?.version, type.sent?.version);
      }
    }
  });

  it('a client whose policy trusts a different SAN fails TLS verification', async () => {
    const impostor = await env.node('impostor');
    const err = await failure(env.client(impostor, SERVICE));
    assert.equal(err.code, grpc.status.UNAVAILABLE, err.message);
    assert.match(err.details, /subject alternative name/i);
  });

  it('refuses plaintext, and TLS without a client certificate, on the STRICT listener', async () => {
    const plaintext = await failure(env.directClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()));
    assert.equal(plaintext.code, grpc.status.UNAVAILABLE, plaintext.message);
    const ca = fs.readFileSync(path.join(caller.certDir, 'ca.pem'));
    const noCert = await failure(env.directClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(ca, null, null, { checkServerIdentity: () => undefined }),
      // SNI must be a host name (RFC 6066), not the IP dialled.
      { 'grpc.ssl_target_name_override': SERVICE }));
    assert.equal(noCert.code, grpc.status.UNAVAILABLE, noCert.message);
  });

  it('rotates leaves twice and rolls the CA under a steady stream of RPCs: none fails, new connections carry new serials', async () => {
    const steady = env.client(caller, SERVICE);
    await who(steady);
    let running = true;
    let answered = 0;
    const failures: string[] = [];
    const stream = (async () => {
      while (running) {
        try {
          await who(steady);
          answered++;
        } catch (err) {
          failures.push((err as Error).message);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    /** The serial the server presents, on a new TLS connection made with the caller's files. */
    const serverSerial = (): Promise<string> => new Promise((resolve, reject) => {
      const read = (file: string): Buffer => fs.readFileSync(path.join(caller.certDir, file));
      const socket = tls.connect({
        host: '127.0.0.1', port, ALPNProtocols: ['h2'], cert: read('cert.pem'), key: read('key.pem'), ca: read('ca.pem'),
        checkServerIdentity: () => undefined,
      }, () => {
        const serial = socket.getPeerCertificate().serialNumber.toLowerCase();
        socket.destroy();
        resolve(serial);
      });
      socket.on('error', reject);
    });
    /** Waits for both nodes' new leaves to land, then for new connections to carry them. */
    const newLeavesInUse = async (before: { caller: string; greeter: string }, what: string, caCount: number): Promise<void> => {
      const leafOf = (node: ProxylessNode, old: string): AgentWrite | undefined => {
        const write = latest(node);
        return write.serial !== old && write.caCount === caCount ? write : undefined;
      };
      const callerLeaf = await until(`${what}: caller's new leaf written`, () => leafOf(caller, before.caller));
      const greeterLeaf = await until(`${what}: greeter's new leaf written`, () => leafOf(greeter, before.greeter));
      await until(`${what}: a new connection presents the caller's new leaf`, async () => {
        const fresh = env.client(caller, SERVICE);
        try {
          return (await who(fresh)).peerSerial === callerLeaf.serial ? true : undefined;
        } finally {
          fresh.close();
        }
      });
      await until(`${what}: the server presents its new leaf`, async () => ((await serverSerial()) === greeterLeaf.serial ? true : undefined));
    };
    const serials = (): { caller: string; greeter: string } => ({ caller: latest(caller).serial, greeter: latest(greeter).serial });

    try {
      const seen = new Set([serials().caller]);
      for (const round of [1, 2]) {
        const before = serials();
        await env.meshd.certificates.rotate();
        await newLeavesInUse(before, `rotation ${round}`, 1);
        seen.add(serials().caller);
      }
      const before = serials();
      await env.meshd.authority.startRollover();
      await newLeavesInUse(before, 'CA rollover (both CAs trusted)', 2);
      await until('the previous CA retires', async () => ((await env.meshd.authority.finishRollover()) ? true : undefined));
      await until('bundles without the previous CA written', () => (latest(caller).caCount === 1 && latest(greeter).caCount === 1 ? true : undefined));
      // With only the new CA trusted, new connections still work and present the new leaves.
      const after = env.client(caller, SERVICE);
      assert.equal((await until('an RPC on a new connection after the rollover', () => who(after))).peerSerial, latest(caller).serial);
      seen.add(serials().caller);
      assert.equal(seen.size, 4, 'the caller got a new leaf at each of the three rotations');
    } finally {
      running = false;
      await stream;
    }
    assert.deepEqual(failures, [], `${failures.length} of ${answered + failures.length} RPCs failed`);
    assert.ok(answered > 0);
  });
});
