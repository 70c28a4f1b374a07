// The mesh read from etcd, by two in-process meshd replicas sharing one key prefix: a write
// through the store reaches the ADS clients of both within a second, with identical versions.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AppMeshClient, DescribeVirtualNodeCommand, UpdateVirtualNodeCommand } from '@aws-sdk/client-app-mesh';
import { createKey } from '../../src/api';
import type { MeshdOptions } from '../../src/runtime/meshd';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { Meshd } from '../../src/runtime/meshd';
import type { RefusedChange } from '../../src/runtime/mesh-watcher';
import { EtcdStore, importDirectory } from '../../src/store';
import { TypeUrl } from '../../src/xds/type-urls';
import { useEtcd } from '../support/etcd';
import { COLORAPP } from '../support/meshd';
import { XdsTestClient, type SotwResponse, type SotwTestStream } from '../support/xds-client';
import { verifyIncrementalBuilds } from '../support/incremental-build';

const FRONT = 'mesh/colorapp/virtualNode/front';
const FRONT_KEY = 'front.yaml';

interface Replica {
  meshd: Meshd;
  store: EtcdStore;
  client: XdsTestClient;
  refused: RefusedChange[];
  /** Resolves with the next refused change. */
  nextRefusal(): Promise<RefusedChange>;
}

describe('runtime/store-source', function () {
  this.timeout(60_000);
  verifyIncrementalBuilds();
  const fixture = useEtcd();
  let work: string;
  let prefixCount = 0;
  let prefix: string;
  const replicas: Replica[] = [];
  const storeKey = randomBytes(32);

  beforeEach(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-replicas-'));
    prefix = `/replicas-${++prefixCount}/`;
    const seed = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix });
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
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function startReplica(name: string, extra: Partial<MeshdOptions> = {}): Promise<Replica> {
    const store = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix });
    const stateDir = path.join(work, name, 'state');
    const refused: RefusedChange[] = [];
    const waiting: ((change: RefusedChange) => void)[] = [];
    const meshd = await Meshd.start({
      configDir: path.join(work, name, 'unused'),
      store,
      // The CA and node-credential key come from etcd, sealed under one key for every replica.
      shared: { store, storeKey, storeKeyFile: path.join(work, 'store.key') },
      xds: ['127.0.0.1:0'],
      sdsSocket: path.join(work, name, 'sds.sock'),
      stateDir,
      trustDomain: 'meshd.local',
      ...extra,
      onRefused: (change) => {
        refused.push(change);
        for (const resolve of waiting.splice(0)) resolve(change);
      },
    });
    const nextRefusal = (): Promise<RefusedChange> => new Promise((resolve) => waiting.push(resolve));
    const replica = { meshd, store, client: new XdsTestClient(meshd.xdsAddresses[0]!), refused, nextRefusal };
    replicas.push(replica);
    return replica;
  }

  /** An ADS stream for the front proxy, subscribed to listeners; resolves with the first response (acked). */
  async function listenersOf(replica: Replica): Promise<{ stream: SotwTestStream; first: SotwResponse }> {
    const metadata = new grpc.Metadata();
    metadata.set(CREDENTIAL_HEADER, replica.meshd.credentials.tokenFor(FRONT));
    const stream = replica.client.sotw('ads', metadata);
    stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Listener });
    const first = await stream.next();
    stream.ack(first);
    return { stream, first };
  }

  async function rewriteEntry(store: EtcdStore, key: string, change: (text: string) => string): Promise<void> {
    const entry = (await store.readAll()).find((e) => e.key === key)!;
    await store.compareAndPut(key, change(entry.text), { revision: entry.revision });
  }

  it('serves the mesh read from etcd', async () => {
    const a = await startReplica('a');
    assert.equal(a.meshd.watcher.current?.revision, 1);
    assert.ok(a.meshd.currentModel?.endpoints[FRONT], 'the front endpoint is in the model');
    const { first } = await listenersOf(a);
    assert.equal(first.resources.length, 2);
  });

  it("carries a write on one replica's store to the ADS clients of both within a second, with identical versions", async () => {
    const a = await startReplica('a');
    const b = await startReplica('b');
    const [onA, onB] = [await listenersOf(a), await listenersOf(b)];
    assert.equal(onB.first.versionInfo, onA.first.versionInfo, 'both replicas serve the same version');
    const writtenAt = Date.now();
    await rewriteEntry(a.store, FRONT_KEY, (text) => text.replace('mode: STRICT', 'mode: PERMISSIVE'));
    const pushedB = await onB.stream.next(5000);
    const elapsed = Date.now() - writtenAt;
    const pushedA = await onA.stream.next(5000);
    assert.ok(elapsed < 1000, `the change reached replica b after ${elapsed} ms`);
    assert.notEqual(pushedB.versionInfo, onB.first.versionInfo);
    assert.equal(pushedB.versionInfo, pushedA.versionInfo, 'both replicas push the same new version');
  });

  it('carries an App Mesh API write on one replica to the ADS clients of the other within a second', async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const keysFile = path.join(work, 'api-keys.json');
    const key = createKey(keysFile, 'read-write');
    const a = await startReplica('a', { api: { address: '127.0.0.1:0', keysFile, region: 'eu-west-1', account: '111122223333' } });
    const b = await startReplica('b');
    const onB = await listenersOf(b);
    const api = new AppMeshClient({
      endpoint: a.meshd.apiServer!.url, region: 'eu-west-1', maxAttempts: 1,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    });
    try {
      const described = await api.send(new DescribeVirtualNodeCommand({ meshName: 'colorapp', virtualNodeName: 'front' }));
      const spec = described.virtualNode!.spec!;
      spec.listeners![0]!.tls!.mode = 'PERMISSIVE';
      const writtenAt = Date.now();
      await api.send(new UpdateVirtualNodeCommand({ meshName: 'colorapp', virtualNodeName: 'front', spec }));
      const pushed = await onB.stream.next(5000);
      const elapsed = Date.now() - writtenAt;
      assert.ok(elapsed < 1000, `the API write reached replica b after ${elapsed} ms`);
      assert.notEqual(pushed.versionInfo, onB.first.versionInfo);
      assert.equal(b.meshd.watcher.current?.revision, 2, 'replica b applied the change once');
    } finally {
      api.destroy();
    }
  });

  it('refuses an invalid entry, naming its key, and keeps serving the last good mesh', async () => {
    const a = await startReplica('a');
    const { stream } = await listenersOf(a);
    const store = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix });
    try {
      const refusal = a.nextRefusal();
      await rewriteEntry(store, FRONT_KEY, (text) => text.replace('mode: STRICT', 'mode: SOMETIMES'));
      assert.match((await refusal).errors.map((e) => `${e.file}: ${e.resource}: ${e.path}: ${e.message}`).join('\n'), /front\.yaml: VirtualNode front: spec\.listeners\[0\]\.tls\.mode: must be STRICT, PERMISSIVE or DISABLED/);
      assert.equal(a.meshd.watcher.current?.revision, 1, 'the last good mesh stays');
      assert.ok(a.meshd.watcher.lastRefused);
      assert.ok(await stream.inbox.quiet(300), 'nothing is pushed for a refused change');
      // The fix goes out, and the refusal is cleared.
      await rewriteEntry(store, FRONT_KEY, (text) => text.replace('mode: SOMETIMES', 'mode: PERMISSIVE'));
      await stream.next(5000);
      assert.equal(a.meshd.watcher.current?.revision, 2);
      assert.equal(a.meshd.watcher.lastRefused, undefined);
    } finally {
      store.close();
    }
  });
});
