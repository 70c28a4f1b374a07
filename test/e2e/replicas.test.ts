// Three real `meshd serve --store etcd://…` processes on one real etcd (issue 15): every replica
// shows the whole fleet (/status, `meshd status`, CSDS) with the replica serving each proxy; an
// App Mesh API write on replica a reaches proxies on b and c within a second; and replica b
// killed with SIGKILL while its proxies stream: they reconnect to c and get the same versions
// (content-derived, so no churn), and b's fleet entries vanish once its lease expires.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { AppMeshClient, DescribeVirtualNodeCommand, UpdateVirtualNodeCommand } from '@aws-sdk/client-app-mesh';
import type { StatusDocument } from '../../src/admin/server';
import { createKey } from '../../src/api';
import { CREDENTIAL_HEADER, NodeCredentials } from '../../src/auth/node-credential';
import { runStatus } from '../../src/cli/status';
import { EtcdStore, importDirectory } from '../../src/store';
import { createStoreKeyFile } from '../../src/store/sealing';
import { PROTO_INCLUDE_DIRS } from '../../src/xds/protos';
import { TypeUrl } from '../../src/xds/type-urls';
import { useEtcd } from '../support/etcd';
import { COLORAPP } from '../support/meshd';
import { startServe, type ServeProcess } from '../support/serve-process';
import { runCli } from '../support/run-cli';
import { XdsTestClient, type SotwTestStream } from '../support/xds-client';

const node = (name: string): string => `mesh/colorapp/virtualNode/${name}`;
const GATEWAY = 'mesh/colorapp/virtualGateway/gateway';
const TYPES = [TypeUrl.Cluster, TypeUrl.Listener] as const;

/** A proxy on one ADS stream, subscribed to clusters and listeners, ACKing what it gets. */
interface Proxy {
  nodeId: string;
  client: XdsTestClient;
  stream: SotwTestStream;
  /** The last version received, by type URL. */
  versions: Map<string, string>;
}

interface ClientConfig { node?: { id: string; metadata?: { fields?: Record<string, { stringValue?: string }> } }; genericXdsConfigs?: { typeUrl: string; name: string; configStatus?: string; versionInfo?: string }[] }
type CsdsClient = grpc.Client & { FetchClientStatus(request: object, callback: (err: grpc.ServiceError | null, response?: { config?: ClientConfig[] }) => void): void };

function csdsClient(target: string): CsdsClient {
  const definition = protoLoader.loadSync('envoy/service/status/v3/csds.proto', {
    includeDirs: [...PROTO_INCLUDE_DIRS], keepCase: false, enums: String, longs: Number, defaults: false, oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { envoy: { service: { status: { v3: { ClientStatusDiscoveryService: new (t: string, c: grpc.ChannelCredentials) => CsdsClient } } } } };
  return new pkg.envoy.service.status.v3.ClientStatusDiscoveryService(target, grpc.credentials.createInsecure());
}

/** Polls `read` until `done` holds; an event this test cannot subscribe to (another process's etcd write), so a deadline bounds it. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}; last seen: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

describe('e2e/replicas: three meshd serve replicas on one etcd', function () {
  this.timeout(120_000);
  const fixture = useEtcd();
  let work: string;
  let storeUrl: string;
  let keysFile: string;
  let storeKeyFile: string;
  let credentials: NodeCredentials;
  const replicas = new Map<string, ServeProcess>();
  const proxies: Proxy[] = [];

  before(async function () {
    if (!fixture.etcd) this.skip();
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-fleet-'));
    storeUrl = `etcd://${fixture.etcd.endpoint}/fleet-e2e/`;
    const seed = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix: '/fleet-e2e/' });
    try {
      await importDirectory(seed, COLORAPP);
    } finally {
      seed.close();
    }
    keysFile = path.join(work, 'api-keys.json');
    storeKeyFile = path.join(work, 'store.key');
    createStoreKeyFile(storeKeyFile);
    await startReplica('a', ['--api', '127.0.0.1:0', '--api-keys', keysFile]);
    await startReplica('b');
    await startReplica('c');
    credentials = NodeCredentials.load(path.join(work, 'a', 'state'));
  });
  after(async () => {
    for (const proxy of proxies.splice(0)) proxy.client.close();
    for (const replica of replicas.values()) {
      if (replica.child.exitCode !== null || replica.child.signalCode !== null) continue;
      const exited = new Promise((resolve) => replica.child.once('exit', resolve));
      process.kill(replica.child.pid!, 'SIGTERM');
      const timer = setTimeout(() => {
        console.log(`replica did not exit 20 s after SIGTERM:\n${replica.stderr().split('\n').slice(-25).join('\n')}`);
        replica.kill();
      }, 20_000);
      await exited;
      clearTimeout(timer);
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  async function startReplica(name: string, extra: string[] = []): Promise<ServeProcess> {
    // Each its own empty state directory: the CA and node-credential key come from etcd.
    const stateDir = path.join(work, name, 'state');
    const replica = await startServe(path.join(work, 'unused'), stateDir, [
      '--store', storeUrl, '--store-key-file', storeKeyFile, '--replica-name', name, '--store-lease-ttl', '2', '--sds-socket', path.join(work, name, 'sds.sock'), ...extra,
    ]);
    replicas.set(name, replica);
    return replica;
  }

  function replica(name: string): ServeProcess {
    return replicas.get(name)!;
  }

  /** Connects a proxy to `address`: CDS then LDS, each ACKed. */
  async function connect(nodeId: string, address: string): Promise<Proxy> {
    const client = new XdsTestClient(address);
    const metadata = new grpc.Metadata();
    metadata.set(CREDENTIAL_HEADER, credentials.tokenFor(nodeId));
    const stream = client.sotw('ads', metadata);
    const versions = new Map<string, string>();
    for (const typeUrl of TYPES) {
      stream.send({ node: { id: nodeId }, typeUrl });
      const response = await stream.next(10_000);
      assert.equal(response.typeUrl, typeUrl);
      stream.ack(response);
      versions.set(typeUrl, response.versionInfo);
    }
    const proxy = { nodeId, client, stream, versions };
    proxies.push(proxy);
    return proxy;
  }

  async function status(name: string): Promise<StatusDocument> {
    const response = await fetch(`${replica(name).admin}/status`);
    assert.equal(response.status, 200);
    return (await response.json()) as StatusDocument;
  }

  /** Node id -> replica, as `name`'s /status shows the fleet. */
  async function servedBy(name: string): Promise<Record<string, string>> {
    const doc = await status(name);
    assert.ok(doc.fleet, `${name}'s /status has the fleet`);
    return Object.fromEntries(doc.fleet.proxies.map((p) => [p.nodeId, p.replica]));
  }

  it('shows every replica and which replica serves each proxy, on /status, meshd status and CSDS of any replica', async () => {
    await connect(node('front'), replica('b').ads);
    await connect(node('color-blue'), replica('c').ads);
    // Each replica publishes what its proxies ACKed within a flush interval; wait until a shows both synced.
    const synced = (doc: StatusDocument, nodeId: string, name: string): boolean => doc.fleet?.proxies.some((p) => p.nodeId === nodeId && p.replica === name
      && ['CDS', 'LDS'].every((type) => p.types[type]?.state === 'synced')) ?? false;
    const doc = await eventually(() => status('a'), (seen) => synced(seen, node('front'), 'b') && synced(seen, node('color-blue'), 'c'), 'a sees front synced on b and color-blue on c');
    assert.deepEqual(doc.fleet!.proxies.map((p) => [p.nodeId, p.replica]), [[node('color-blue'), 'c'], [node('front'), 'b']]);
    assert.deepEqual(doc.fleet!.replicas.map((r) => [r.name, r.self, r.xds]), [['a', true, [replica('a').ads]], ['b', false, [replica('b').ads]], ['c', false, [replica('c').ads]]]);
    assert.deepEqual(doc.proxies, [], "a's own proxies: none");

    const printed = await runStatus({ adminUrl: replica('a').admin });
    assert.equal(printed.exitCode, 0, printed.output);
    assert.match(printed.output, /fleet: 3 replicas, 2 proxies; this is a/);
    assert.match(printed.output, new RegExp(`${node('front')}\\s+b\\s+ADS/sotw\\s+CDS:\\S+ LDS:\\S+`));
    assert.match(printed.output, new RegExp(`${node('color-blue')}\\s+c\\s+ADS/sotw`));

    // CSDS on c answers for front, which b serves: its resources, synced, and b named as its replica.
    const csds = csdsClient(replica('c').ads);
    try {
      const config = await eventually(async () => {
        const response = await new Promise<{ config?: ClientConfig[] }>((resolve, reject) => csds.FetchClientStatus({ nodeMatchers: [{ nodeId: { exact: node('front') } }] }, (err, r) => (err ? reject(err) : resolve(r!))));
        return response.config?.[0];
      }, (found) => (found?.genericXdsConfigs ?? []).some((g) => g.typeUrl === TypeUrl.Listener && g.configStatus === 'SYNCED'), 'c reports front synced');
      assert.equal(config!.node?.metadata?.fields?.meshd_replica?.stringValue, 'b');
      const front = proxies.find((p) => p.nodeId === node('front'))!;
      assert.ok(config!.genericXdsConfigs!.filter((g) => g.typeUrl === TypeUrl.Listener).every((g) => g.versionInfo === front.versions.get(TypeUrl.Listener)));
    } finally {
      csds.close();
    }
  });

  it('carries an App Mesh API write on replica a to proxies on b and c within a second', async () => {
    const onB = proxies.find((p) => p.nodeId === node('front'))!;
    const onC = await connect(node('front'), replica('c').ads);
    assert.equal(onC.versions.get(TypeUrl.Listener), onB.versions.get(TypeUrl.Listener), 'b and c serve the same version');
    const key = createKey(keysFile, 'read-write');
    const api = new AppMeshClient({
      endpoint: /App Mesh API on (http:\/\/\S+)/.exec(replica('a').stderr())![1], region: 'us-east-1', maxAttempts: 1,
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    });
    try {
      // Each write toggles front's TLS mode. Three processes, etcd and the test share two cores
      // with whatever else runs, so a write is timed up to three times: one within a second
      // shows the path (API -> etcd -> watch on b and c -> push) delivers in time; all three late fails.
      const elapsed: number[] = [];
      for (const mode of ['PERMISSIVE', 'STRICT', 'PERMISSIVE'] as const) {
        const described = await api.send(new DescribeVirtualNodeCommand({ meshName: 'colorapp', virtualNodeName: 'front' }));
        const spec = described.virtualNode!.spec!;
        spec.listeners![0]!.tls!.mode = mode;
        const previous = onB.versions.get(TypeUrl.Listener);
        const writtenAt = Date.now();
        await api.send(new UpdateVirtualNodeCommand({ meshName: 'colorapp', virtualNodeName: 'front', spec }));
        const [pushedB, pushedC] = await Promise.all([onB.stream.next(5000), onC.stream.next(5000)]);
        elapsed.push(Date.now() - writtenAt);
        for (const [proxy, pushed] of [[onB, pushedB], [onC, pushedC]] as const) {
          proxy.stream.ack(pushed);
          proxy.versions.set(pushed.typeUrl, pushed.versionInfo);
        }
        assert.equal(pushedB.typeUrl, TypeUrl.Listener);
        assert.notEqual(pushedB.versionInfo, previous);
        assert.equal(pushedC.versionInfo, pushedB.versionInfo, 'b and c push the same new version');
        if (elapsed[elapsed.length - 1]! < 1000) break;
      }
      assert.ok(Math.min(...elapsed) < 1000, `the API write reached b and c after ${elapsed.join(', ')} ms`);
    } finally {
      api.destroy();
    }
  });

  it("moves b's proxies to c without churn when b is killed with SIGKILL, and drops b from the fleet when its lease expires", async () => {
    // b serves several proxies, streaming; c answers CSDS polls meanwhile.
    const onB = [proxies.find((p) => p.nodeId === node('front'))!];
    for (const nodeId of [node('color-green'), GATEWAY]) onB.push(await connect(nodeId, replica('b').ads));
    await eventually(() => servedBy('c'), (seen) => onB.every((p) => seen[p.nodeId] !== undefined) && seen[GATEWAY] === 'b', "c sees b's proxies");
    const before = onB.map((p) => new Map(p.versions));

    const csds = csdsClient(replica('c').ads);
    let polling = true;
    let polls = 0;
    const traffic = (async () => {
      while (polling) {
        await new Promise<void>((resolve, reject) => csds.FetchClientStatus({}, (err) => (err ? reject(err) : resolve())));
        polls += 1;
      }
    })();

    const b = replica('b');
    const killed = new Promise((resolve) => b.child.once('exit', (_code, signal) => resolve(signal)));
    process.kill(b.child.pid!, 'SIGKILL');
    assert.equal(await killed, 'SIGKILL');
    // Each proxy's stream to b ends; it reconnects to the other address it was given, c.
    const moved: Proxy[] = [];
    for (const proxy of onB) {
      const ended = await proxy.stream.inbox.ended(10_000);
      assert.equal(ended.code, grpc.status.UNAVAILABLE, `${proxy.nodeId}: ${ended.details}`);
      moved.push(await connect(proxy.nodeId, replica('c').ads));
    }
    polling = false;
    await traffic;
    csds.close();
    assert.ok(polls > 0, 'c answered CSDS throughout');
    for (const [i, proxy] of moved.entries()) {
      assert.deepEqual(proxy.versions, before[i], `${proxy.nodeId} gets the versions b served`);
      assert.ok(await proxy.stream.inbox.quiet(300), `${proxy.nodeId}: nothing pushed after the move`);
    }
    // b's entries go when its lease (2 s) expires: a then lists every moved proxy on c alone.
    await eventually(() => status('a'), (doc) => !doc.fleet!.replicas.some((r) => r.name === 'b'), "b gone from a's fleet view");
    const seen = await servedBy('a');
    for (const proxy of moved) assert.equal(seen[proxy.nodeId], 'c', `${proxy.nodeId} is on c`);
    assert.ok(!(await status('a')).fleet!.proxies.some((p) => p.replica === 'b'));
  });
});

describe('e2e/replicas: serve flags', () => {
  it('refuses a replica name that cannot be one etcd key segment, naming the flag', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-fleet-flags-'));
    try {
      const keyFile = path.join(work, 'store.key');
      createStoreKeyFile(keyFile);
      const result = await runCli(['serve', '--store', 'etcd://127.0.0.1:1/meshd', '--store-key-file', keyFile, '--replica-name', 'a/b', '--state-dir', path.join(work, 'state'), '--xds', '127.0.0.1:0', '--no-admin']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /--replica-name "a\/b": use letters, digits/);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
