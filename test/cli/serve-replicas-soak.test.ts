// The rotation soak across replicas: three real `meshd serve` processes on one etcd; a server
// proxy's SDS on replica a, a client proxy's on replica b; mutual-TLS connections opened
// continuously between them with the material SDS delivers, while leaves rotate, replica a is
// killed with SIGKILL (its proxy moves to replica b, as an Envoy with several SDS/xDS endpoints
// would), and a CA rollover is started on replica c and finished by the leader. Not one handshake
// may fail.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { NodeCredentials } from '../../src/auth/node-credential';
import { EtcdStore, importDirectory } from '../../src/store';
import { useEtcd } from '../support/etcd';
import { COLORAPP } from '../support/meshd';
import { runCli } from '../support/run-cli';
import { startServe, type ServeProcess } from '../support/serve-process';
import { mtlsConnect, SdsProxy, startMtlsServer, type MaterialHolder, type SdsMaterial } from '../support/sds-proxy';

const TD = 'meshd.local';
const FRONT = 'mesh/colorapp/virtualNode/front';
const BLUE = 'mesh/colorapp/virtualNode/color-blue';

/** One proxy's SDS, on the first replica of its list that is alive; on a lost stream, the next one. */
class FailoverSds implements MaterialHolder {
  private proxy: SdsProxy;
  private closed = false;
  /** Which replica serves it now (index into the sockets). */
  serving = 0;
  private last: SdsMaterial | undefined;

  constructor(private readonly sockets: readonly string[], private readonly node: string, private readonly token: string) {
    this.proxy = this.connect();
  }

  private connect(): SdsProxy {
    const proxy = new SdsProxy(this.sockets[this.serving]!, this.node, this.token);
    proxy.stream.inbox.ended(600_000).then(() => {
      if (this.closed || this.serving + 1 >= this.sockets.length) return;
      this.last = this.proxy.material;
      this.proxy.close();
      this.serving++;
      this.proxy = this.connect();
    }, () => undefined);
    return proxy;
  }

  /** The newest material held: the live stream's, else what the lost one delivered last. */
  get material(): SdsMaterial | undefined {
    return this.proxy.material ?? this.last;
  }

  /** Until the new replica's first answer, the material the lost stream delivered keeps serving. */
  secureContext(): SecureContext {
    const m = this.material;
    if (!m) throw new Error(`${this.node}: no SDS material yet`);
    return createSecureContext({ cert: m.certificateChainPem, key: m.privateKeyPem, ca: m.trustedCaPem });
  }

  async until(predicate: (m: SdsMaterial) => boolean, timeoutMs = 30_000): Promise<SdsMaterial> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.proxy.material;
      if (m && predicate(m)) return m;
      if (Date.now() > deadline) throw new Error(`${this.node}: SDS material did not arrive within ${timeoutMs} ms`);
      await this.proxy.until(() => true, 1_000).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    this.closed = true;
    this.proxy.close();
  }
}

const caCount = (pem: string): number => (pem.match(/BEGIN CERTIFICATE/g) ?? []).length;

describe('cli: meshd serve replicas, rotation soak', function () {
  this.timeout(120_000);
  const fixture = useEtcd();
  let work: string;
  const serves: ServeProcess[] = [];
  const proxies: FailoverSds[] = [];

  beforeEach(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-soak-')); });
  afterEach(() => {
    for (const proxy of proxies.splice(0)) proxy.close();
    for (const serve of serves.splice(0)) serve.kill();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('keeps every mTLS handshake working while leaves rotate, a replica is killed and a rollover started on another finishes', async () => {
    const prefix = '/soak/';
    const seed = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix });
    try {
      await importDirectory(seed, COLORAPP);
    } finally {
      seed.close();
    }
    const keyFile = path.join(work, 'store.key');
    assert.equal((await runCli(['store', 'keygen', keyFile])).code, 0);
    const start = async (name: string): Promise<ServeProcess> => {
      const serve = await startServe(work, path.join(work, name), ['--store', `etcd://${fixture.etcd.endpoint}${prefix}`, '--store-key-file', keyFile, '--store-lease-ttl', '1']);
      serves.push(serve);
      return serve;
    };
    const [a, b, c] = [await start('a'), await start('b'), await start('c')];
    const socket = (serve: ServeProcess): string => serve.sds.replace(/^unix:/, '');
    const credentials = NodeCredentials.load(path.join(work, 'a'));
    const front = new FailoverSds([socket(a), socket(b)], FRONT, credentials.tokenFor(FRONT));
    const blue = new FailoverSds([socket(b), socket(c)], BLUE, credentials.tokenFor(BLUE));
    proxies.push(front, blue);
    await front.until(() => true);
    await blue.until(() => true);

    // front serves, blue connects, each with what SDS delivered; the client checks front's SPIFFE ID.
    const { server, port } = await startMtlsServer(front);
    let stop = false;
    let phase = 'start';
    let ok = 0;
    const failures: string[] = [];
    const serials = new Set<string>();
    const traffic = (async () => {
      while (!stop) {
        const m = blue.material!;
        try {
          serials.add(await mtlsConnect(port, { cert: m.certificateChainPem, key: m.privateKeyPem, ca: m.trustedCaPem }, `spiffe://${TD}/${FRONT}`));
          ok++;
        } catch (err) {
          failures.push(`${phase}: ${(err as Error).message}`);
        }
      }
    })();
    const flows = async (what: string): Promise<void> => {
      const before = ok;
      const deadline = Date.now() + 15_000;
      while (ok < before + 5) {
        if (Date.now() > deadline) throw new Error(`traffic stopped ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      await flows('at the start');
      // 1. Leaves rotate on a (front's replica): new serials reach the handshakes.
      phase = 'rotation';
      const firstSerial = front.material!.serial;
      assert.equal((await runCli(['certs', 'rotate', '--admin', a.admin])).code, 0);
      const rotated = await front.until((m) => m.serial !== firstSerial);
      await flows('after the rotation');

      // 2. Replica a dies: front moves to b and gets its leaf there (same CA, so blue still trusts it).
      phase = 'replica a killed';
      a.child.kill('SIGKILL');
      await new Promise((resolve) => a.child.once('exit', resolve));
      await front.until((m) => m.serial !== rotated.serial);
      assert.equal(front.serving, 1, 'front moved to replica b');
      await flows('after replica a was killed');

      // 3. A rollover started on c: two-CA bundles, leaves from the new CA, then one-CA bundles (the leader finishes).
      phase = 'rollover';
      const bundleBefore = front.material!.trustedCaPem;
      const started = await runCli(['ca', 'rollover', '--admin', c.admin]);
      assert.equal(started.code, 0, started.stdout + started.stderr);
      await front.until((m) => m.trustedCaPem !== bundleBefore && caCount(m.trustedCaPem) === 2);
      await blue.until((m) => caCount(m.trustedCaPem) === 2);
      const newCaLeaf = await front.until((m) => m.trustedCaPem !== bundleBefore && caCount(m.trustedCaPem) === 1, 60_000);
      await blue.until((m) => caCount(m.trustedCaPem) === 1 && m.trustedCaPem === newCaLeaf.trustedCaPem, 30_000);
      await flows('after the rollover finished');
    } finally {
      stop = true;
      await traffic;
      server.close();
    }
    assert.deepEqual(failures, [], `${failures.length} of ${ok + failures.length} handshakes failed`);
    assert.ok(serials.size >= 3, `handshakes saw ${serials.size} server serials (rotation, failover, rollover should give at least 3)`);
  });
});
