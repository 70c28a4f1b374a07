// etcd going away under running replicas (issue 15, "when things fail"): the replicas keep
// serving the last good mesh to connected and reconnecting proxies, /readyz reports the store as
// down, App Mesh API writes fail with ServiceUnavailableException (as the AWS CLI shows it), and
// once etcd is back (restarted on the same data directory and ports) they resync by themselves:
// nothing re-applied and no new version pushed when nothing changed; what changed while one
// replica was cut off arrives there.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AppMeshClient, DescribeVirtualNodeCommand, UpdateVirtualNodeCommand, type VirtualNodeSpec } from '@aws-sdk/client-app-mesh';
import { Etcd3 } from 'etcd3';
import { createKey } from '../../src/api';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { Meshd, type MeshdOptions } from '../../src/runtime/meshd';
import { EtcdStore, importDirectory } from '../../src/store';
import { createStoreKeyFile, loadStoreKey } from '../../src/store/sealing';
import { logger } from '../../src/log';
import { SdsProxy } from '../support/sds-proxy';
import { TypeUrl } from '../../src/xds/type-urls';
import { findAwsCli, runAws } from '../support/aws-cli';
import { etcdOrSkip, startEtcd, type EtcdProcess } from '../support/etcd';
import { COLORAPP } from '../support/meshd';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay';
import { XdsTestClient, type SotwResponse, type SotwTestStream } from '../support/xds-client';

/** How long etcd stays away in the outage scenario (the issue: "etcd stopped for 30 s"). */
const OUTAGE_MS = 30_000;
const FRONT = 'mesh/colorapp/virtualNode/front';
const REGION = 'eu-west-1';

interface Replica {
  meshd: Meshd;
  store: EtcdStore;
  client: XdsTestClient;
}

interface Readiness {
  ready: boolean;
  checks: { name: string; ok: boolean; detail?: string }[];
}

describe('runtime/store-outage', function () {
  this.timeout(60_000);
  let etcd: EtcdProcess;
  let work: string;
  let keysFile: string;
  let storeKeyFile: string;
  let storeKey: Buffer;
  let key: { accessKeyId: string; secretAccessKey: string };
  let prefixCount = 0;
  let prefix: string;
  const replicas: Replica[] = [];
  const relays: TcpRelay[] = [];

  before(async function () {
    etcd = await startEtcd(etcdOrSkip(this));
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  });
  after(async () => etcd?.stop());

  beforeEach(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-outage-'));
    keysFile = path.join(work, 'api-keys.json');
    storeKeyFile = path.join(work, 'store.key');
    createStoreKeyFile(storeKeyFile);
    storeKey = loadStoreKey(storeKeyFile, logger('test'));
    key = createKey(keysFile, 'read-write');
    prefix = `/outage-${++prefixCount}/`;
    const seed = new EtcdStore({ endpoints: [etcd.endpoint], prefix });
    try {
      await importDirectory(seed, COLORAPP);
    } finally {
      seed.close();
    }
  });
  afterEach(async () => {
    for (const replica of replicas.splice(0)) {
      replica.client.close();
      await replica.meshd.stop();
      replica.store.close();
    }
    for (const relay of relays.splice(0)) await relay.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** A replica with admin and API servers, reaching etcd at `endpoint` (the member, or a relay to it). */
  async function startReplica(name: string, endpoint: string, extra: Partial<MeshdOptions> = {}): Promise<Replica> {
    // A short request deadline: a call to a vanished etcd fails in a second instead of five.
    const store = new EtcdStore({ endpoints: [endpoint], prefix }, { requestTimeoutMs: 1_000 });
    const stateDir = path.join(work, name, 'state');
    // As in production: the CA and node-credential key shared through etcd, sealed under one key.
    const meshd = await Meshd.start({
      configDir: path.join(work, name, 'unused'), store, shared: { store, storeKey, storeKeyFile, leaseTtlSeconds: 2 },
      xds: ['127.0.0.1:0'], sdsSocket: path.join(work, name, 'sds.sock'), stateDir,
      trustDomain: 'meshd.local', admin: '127.0.0.1:0', api: { address: '127.0.0.1:0', keysFile, region: REGION, account: '111122223333' }, ...extra,
    });
    const replica = { meshd, store, client: new XdsTestClient(meshd.xdsAddresses[0]!) };
    replicas.push(replica);
    return replica;
  }

  async function listenersOf(replica: Replica): Promise<{ stream: SotwTestStream; first: SotwResponse }> {
    const metadata = new grpc.Metadata();
    metadata.set(CREDENTIAL_HEADER, replica.meshd.credentials.tokenFor(FRONT));
    const stream = replica.client.sotw('ads', metadata);
    stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Listener });
    const first = await stream.next();
    stream.ack(first);
    return { stream, first };
  }

  async function readiness(replica: Replica): Promise<Readiness> {
    const response = await fetch(`${replica.meshd.adminServer!.url}/readyz`);
    const body = await response.json() as Readiness;
    assert.equal(response.status, body.ready ? 200 : 503);
    return body;
  }

  /** Polls /readyz until it says `ready`, within a deadline. */
  async function readyBecomes(replica: Replica, ready: boolean, timeoutMs = 15_000): Promise<Readiness> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const body = await readiness(replica);
      if (body.ready === ready) return body;
      if (Date.now() > deadline) assert.fail(`/readyz did not become ${ready ? 'ready' : 'not ready'} within ${timeoutMs} ms: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  function api(replica: Replica): AppMeshClient {
    return new AppMeshClient({ endpoint: replica.meshd.apiServer!.url, region: REGION, maxAttempts: 1, credentials: key });
  }

  async function frontSpec(replica: Replica): Promise<VirtualNodeSpec> {
    const client = api(replica);
    try {
      return (await client.send(new DescribeVirtualNodeCommand({ meshName: 'colorapp', virtualNodeName: 'front' }))).virtualNode!.spec!;
    } finally {
      client.destroy();
    }
  }

  function withTlsMode(spec: VirtualNodeSpec, mode: 'STRICT' | 'PERMISSIVE'): VirtualNodeSpec {
    const changed = structuredClone(spec);
    changed.listeners![0]!.tls!.mode = mode;
    return changed;
  }

  async function updateFront(replica: Replica, spec: VirtualNodeSpec): Promise<void> {
    const client = api(replica);
    try {
      await client.send(new UpdateVirtualNodeCommand({ meshName: 'colorapp', virtualNodeName: 'front', spec }));
    } finally {
      client.destroy();
    }
  }

  /** The scenario, for an outage of `outageMs`: everything checked while etcd is away, then after. */
  async function etcdOutage(outageMs: number): Promise<void> {
    const a = await startReplica('a', etcd.endpoint);
    const { stream, first } = await listenersOf(a);
    const sds = new SdsProxy(a.meshd.options.sdsSocket, FRONT, a.meshd.credentials.tokenFor(FRONT));
    const sdsFirst = await sds.until(() => true);
    const spec = await frontSpec(a);
    assert.equal((await readiness(a)).ready, true);

    const outageStarted = Date.now();
    await etcd.halt('SIGKILL');
    const down = await readyBecomes(a, false);
    const storeCheck = down.checks.find((check) => !check.ok);
    assert.match(storeCheck?.detail ?? '', new RegExp(`store down: etcd store etcd://${etcd.endpoint.replace(/\./g, '\\.')}${prefix}.*still serving the last good mesh`));

    // An API write is refused as App Mesh refuses one when its storage is away, through the AWS CLI when there is one.
    const cli = findAwsCli();
    if (cli) {
      const run = await runAws(cli, ['appmesh', 'update-virtual-node', '--mesh-name', 'colorapp', '--virtual-node-name', 'front', '--spec', JSON.stringify(withTlsMode(spec, 'PERMISSIVE'))],
        { endpoint: a.meshd.apiServer!.url, region: REGION, ...key, cwd: work });
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /An error occurred \(ServiceUnavailableException\) when calling the UpdateVirtualNode operation.*: the mesh store etcd:\/\/\S+ cannot be read/);
    } else {
      await assert.rejects(updateFront(a, withTlsMode(spec, 'PERMISSIVE')), (err: Error & { $metadata?: { httpStatusCode?: number } }) => err.name === 'ServiceUnavailableException' && err.$metadata?.httpStatusCode === 503);
    }

    // Leaves are still issued and renewed with the CA the replica holds.
    const leafBefore = sds.material!.serial;
    await a.meshd.certificates.rotate();
    const renewed = await sds.until((m) => m.serial !== leafBefore);
    assert.equal(renewed.trustedCaPem, sdsFirst.trustedCaPem, 'the same CA, the same bundle');

    // The connected proxy keeps its config; one reconnecting now gets the same version.
    assert.ok(await stream.inbox.quiet(300), 'nothing is pushed while etcd is away');
    const reconnected = await listenersOf(a);
    assert.equal(reconnected.first.versionInfo, first.versionInfo);
    assert.equal(reconnected.first.resources.length, first.resources.length);
    reconnected.stream.end();

    const rest = outageStarted + outageMs - Date.now();
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    await etcd.restart();
    await readyBecomes(a, true);
    assert.equal(a.meshd.watcher.current?.revision, 1, 'the resync found nothing new and applied nothing');
    assert.equal(a.meshd.watcher.lastRefused, undefined);
    assert.ok(await stream.inbox.quiet(1000), 'no new version is pushed for no change');

    // The store is really back: reads, writes and the watch.
    await updateFront(a, withTlsMode(spec, 'PERMISSIVE'));
    const pushed = await stream.next(5000);
    assert.notEqual(pushed.versionInfo, first.versionInfo);
    stream.end();
    sds.close();
  }

  it(`keeps serving through an etcd outage of ${OUTAGE_MS / 1000} s, refuses API writes with ServiceUnavailableException, and resyncs without a new version`, async function () {
    this.timeout(OUTAGE_MS + 90_000);
    await etcdOutage(OUTAGE_MS);
  });

  /** Replica a on etcd, replica b through a relay with a proxy on it, and b then cut off (and unready). */
  async function cutOffPair(): Promise<{ a: Replica; b: Replica; relay: TcpRelay; onB: { stream: SotwTestStream; first: SotwResponse }; spec: VirtualNodeSpec }> {
    const a = await startReplica('a', etcd.endpoint);
    const relay = await startTcpRelay(etcd.endpoint);
    relays.push(relay);
    const b = await startReplica('b', relay.endpoint);
    const onB = await listenersOf(b);
    const spec = await frontSpec(a);
    await relay.cut();
    await readyBecomes(b, false);
    return { a, b, relay, onB, spec };
  }

  it('brings a replica that was cut off from etcd the changes made meanwhile, without a restart', async () => {
    const { a, b, relay, onB, spec } = await cutOffPair();
    assert.equal((await readiness(a)).ready, true, 'the replica that still reaches etcd stays ready');
    await updateFront(a, withTlsMode(spec, 'PERMISSIVE'));
    assert.ok(await onB.stream.inbox.quiet(500), 'the cut-off replica cannot know yet');

    await relay.restore();
    const pushed = await onB.stream.next(15_000);
    assert.notEqual(pushed.versionInfo, onB.first.versionInfo);
    await readyBecomes(b, true);
    const onA = await listenersOf(a);
    assert.equal(pushed.versionInfo, onA.first.versionInfo, 'both replicas serve the same version again');
    onA.stream.end();
    onB.stream.end();
  });

  it('keeps following changes after etcd compacted the history a cut-off replica had not seen', async () => {
    const { a, b, relay, onB, spec } = await cutOffPair();
    await updateFront(a, withTlsMode(spec, 'PERMISSIVE'));
    // Compact etcd's history past what b's watch saw: etcd cannot resume that watch and ends it.
    const admin = new Etcd3({ hosts: `http://${etcd.endpoint}` });
    try {
      // One more revision beside the mesh, so the compaction removes the write b has not seen.
      await admin.put(`${prefix}unrelated`).value('x');
      const { header } = await admin.get(`${prefix}unrelated`).exec();
      await admin.kv.compact({ revision: header.revision, physical: true });
    } finally {
      admin.close();
    }
    await relay.restore();
    const caughtUp = await onB.stream.next(15_000);
    onB.stream.ack(caughtUp);
    // Ready again only once its watch is back (until then the store counts as down and is polled).
    await readyBecomes(b, true);

    // A change made now arrives through that watch: a ready replica no longer polls.
    await updateFront(a, withTlsMode(spec, 'STRICT'));
    const followed = await onB.stream.next(15_000);
    assert.notEqual(followed.versionInfo, caughtUp.versionInfo);
    assert.equal(followed.versionInfo, onB.first.versionInfo, 'back to the first content, back to the first version');
    onB.stream.end();
  });
});
