// Bench: 3 meshd replicas on one etcd × K streams. The mesh of bench/api-write.ts (K client
// virtual nodes calling one routed service) is imported into a real etcd; three replicas (each
// its own process, the mesh from `--store`, the fleet view on) serve it, and one load process
// holds K ADS streams split evenly across them (RDS, ACKing every response). Each round shifts the
// route's weights with UpdateRoute on replica 0's App Mesh API and times, from the call, the
// moment the last of the K streams (on any replica) has the new routes. Then each replica's RSS.
// Needs an etcd binary (Debian's etcd-server, or MESHD_ETCD); says so and skips without one.
// Run: node dist/bench/replicas.js [--k 1000,10000] [--rounds 5]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AppMeshClient, UpdateRouteCommand } from '@aws-sdk/client-app-mesh';
import { createKey } from '../src/api/keys';
import { CREDENTIAL_HEADER, NodeCredentials } from '../src/auth/node-credential';
import { Meshd } from '../src/runtime/meshd';
import { EtcdStore, importDirectory } from '../src/store';
import { createStoreKeyFile, loadStoreKey } from '../src/store/sealing';
import { logger } from '../src/log';
import { TypeUrl } from '../src/xds/type-urls';
import { findEtcd, startEtcd } from '../test/support/etcd';
import { routeSpec, writeMesh } from './api-write';
import { ChildPeer, emitEvent, nowMs, serveCommands } from './ipc';
import { ackRequest, initialRequest, readResponseHeader } from './proto-bytes';
import { mb, median } from './report';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const REPLICAS = 3;
const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const PER_CHANNEL = 250;
/** Client virtual nodes per store entry: one entry of 10,000 would pass etcd's 1.5 MiB request limit. */
const CLIENTS_PER_ENTRY = 1000;
const REGION = 'us-east-1';
/**
 * Generous: at K = 10,000 each of the three replicas translates every endpoint at start and on
 * each write, so on two shared cores one step can take minutes.
 */
const STARTUP_MS = 600_000;
const passThrough = (value: Buffer): Buffer => value;

/** api-write's mesh, its clients file split into entries etcd accepts. */
function writeStoreMesh(dir: string, k: number): void {
  writeMesh(dir, k);
  const clientsFile = path.join(dir, 'clients.json');
  const clients = JSON.parse(fs.readFileSync(clientsFile, 'utf8')) as unknown[];
  fs.rmSync(clientsFile);
  for (let first = 0; first < clients.length; first += CLIENTS_PER_ENTRY) {
    fs.writeFileSync(path.join(dir, `clients-${first / CLIENTS_PER_ENTRY}.json`), JSON.stringify(clients.slice(first, first + CLIENTS_PER_ENTRY)));
  }
}

// ---------------------------------------------------------------- replica process
async function replicaMain(work: string, index: number, storeUrlPrefix: string, etcdEndpoint: string): Promise<void> {
  const store = new EtcdStore({ endpoints: [etcdEndpoint], prefix: storeUrlPrefix });
  const dir = path.join(work, `replica-${index}`);
  const storeKeyFile = path.join(work, 'store.key');
  const meshd = await Meshd.start({
    configDir: path.join(dir, 'unused'),
    store,
    // One CA and node-credential key for all, through etcd (the first replica stores them).
    shared: { store, storeKey: loadStoreKey(storeKeyFile, logger('bench')), storeKeyFile },
    xds: ['127.0.0.1:0'],
    sdsSocket: path.join(dir, 'sds.sock'),
    stateDir: path.join(dir, 'state'),
    trustDomain: 'bench.meshd',
    fleet: { ...store.shared, replicaName: `replica-${index}` },
    ...(index === 0 ? { api: { address: '127.0.0.1:0', keysFile: path.join(work, 'api-keys.json'), region: REGION, account: '111122223333', ratePerSecond: 1000, rateBurst: 1000 } } : {}),
  });
  serveCommands(`replica-${index}`, (command) => {
    if (command.type === 'addresses') return { xds: meshd.xdsAddresses[0], api: meshd.apiServer?.url };
    if (command.type === 'rss') return process.memoryUsage().rss;
    throw new Error(`unknown command ${String(command.type)}`);
  });
}

// ---------------------------------------------------------------- load process
function clientMain(): void {
  const channels: grpc.Client[] = [];
  const versions: string[] = [];
  let baseline: (string | undefined)[] = [];
  let updated = 0;
  let watching = false;
  serveCommands('load', async (command) => {
    if (command.type === 'open') {
      const k = Number(command.k);
      const addresses = command.xds as string[];
      const credentials = NodeCredentials.load(String(command.stateDir));
      // Stream i goes to replica i mod 3; each replica's streams share channels of PER_CHANNEL.
      const channelOf = new Map<string, { client: grpc.Client; streams: number }>();
      for (let i = 0; i < k; i++) {
        const xds = addresses[i % addresses.length]!;
        let channel = channelOf.get(xds);
        if (!channel || channel.streams >= PER_CHANNEL) {
          channel = { client: new grpc.Client(xds, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }), streams: 0 };
          channels.push(channel.client);
          channelOf.set(xds, channel);
        }
        channel.streams += 1;
        const nodeId = `mesh/bench/virtualNode/c${i}`;
        const metadata = new grpc.Metadata();
        metadata.set(CREDENTIAL_HEADER, credentials.tokenFor(nodeId));
        const call = channel.client.makeBidiStreamRequest(ADS_PATH, passThrough, passThrough, metadata);
        versions.push('');
        call.on('data', (bytes: Buffer) => {
          const header = readResponseHeader(bytes);
          call.write(ackRequest(TypeUrl.RouteConfiguration, header.versionInfo, header.nonce));
          versions[i] = header.versionInfo;
          if (watching && baseline[i] !== undefined && header.versionInfo !== baseline[i]) {
            baseline[i] = undefined;
            updated += 1;
            if (updated === k) {
              watching = false;
              emitEvent({ type: 'allUpdated', at: nowMs() });
            }
          }
        });
        call.on('error', () => undefined);
        call.write(initialRequest(nodeId, TypeUrl.RouteConfiguration));
      }
      const deadline = Date.now() + STARTUP_MS;
      while (versions.some((v) => v === '')) {
        if (Date.now() > deadline) throw new Error(`${versions.filter((v) => v === '').length} streams got no routes`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return k;
    }
    if (command.type === 'watch') {
      baseline = [...versions];
      updated = 0;
      watching = true;
      return true;
    }
    throw new Error(`unknown command ${String(command.type)}`);
  });
}

// ---------------------------------------------------------------- orchestrator
async function runK(k: number, rounds: number, etcdEndpoint: string): Promise<string> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-replicas-bench-'));
  const prefix = `/bench-${k}-${process.pid}/`;
  const peers: ChildPeer[] = [];
  try {
    writeStoreMesh(path.join(work, 'mesh'), k);
    const seed = new EtcdStore({ endpoints: [etcdEndpoint], prefix });
    try {
      await importDirectory(seed, path.join(work, 'mesh'));
    } finally {
      seed.close();
    }
    const key = createKey(path.join(work, 'api-keys.json'), 'read-write');
    createStoreKeyFile(path.join(work, 'store.key'));
    const startReplica = (index: number): ChildPeer => {
      const replica = ChildPeer.start(`replica-${index}`, __filename, ['replica', work, String(index), prefix, etcdEndpoint], { MESHD_LOG_LEVEL: 'warn' });
      peers.push(replica);
      return replica;
    };
    // Replica 0 stores the CA and node-credential key in etcd; the others load them.
    const replicas = [startReplica(0)];
    const addresses = [await replicas[0]!.request<{ xds: string; api?: string }>({ type: 'addresses' }, STARTUP_MS)];
    for (let index = 1; index < REPLICAS; index++) replicas.push(startReplica(index));
    addresses.push(...await Promise.all(replicas.slice(1).map((replica) => replica.request<{ xds: string; api?: string }>({ type: 'addresses' }, STARTUP_MS))));
    const load = ChildPeer.start('load', __filename, ['client']);
    peers.push(load);
    await load.request({ type: 'open', xds: addresses.map((a) => a.xds), stateDir: path.join(work, 'replica-0', 'state'), k }, STARTUP_MS);
    const sdk = new AppMeshClient({ endpoint: addresses[0]!.api!, region: REGION, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
    const updates: number[] = [];
    try {
      for (let round = 0; round <= rounds; round++) {
        await load.request({ type: 'watch' });
        const allUpdated = load.waitForEvent((e) => e.type === 'allUpdated', STARTUP_MS, () => `not every stream updated (round ${round})`);
        const start = nowMs();
        await sdk.send(new UpdateRouteCommand({ meshName: 'bench', virtualRouterName: 'svc', routeName: 'split', spec: routeSpec(round % 2 === 0 ? 50 : 100) as never }));
        const event = await allUpdated;
        if (round === 0) continue; // warm-up
        updates.push(Number(event.at) - start);
      }
    } finally {
      sdk.destroy();
    }
    const rss = await Promise.all(replicas.map((replica) => replica.request<number>({ type: 'rss' })));
    return `| ${k.toLocaleString('en-US')} | ${median(updates).toFixed(0)} / ${Math.max(...updates).toFixed(0)} | ${rss.map((bytes) => mb(bytes).toFixed(0)).join(' / ')} |`;
  } finally {
    for (const peer of peers.reverse()) await peer.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  let ks = [1000, 10_000];
  let rounds = 5;
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--k') ks = argv[i + 1]!.split(',').map(Number);
    else if (argv[i] === '--rounds') rounds = Number(argv[i + 1]);
    else throw new Error(`unknown option ${argv[i]} (known: --k 1000,10000 --rounds 5)`);
  }
  console.log(`\n${REPLICAS} replicas on one etcd: App Mesh API write on replica 0 -> every stream on every replica updated (UpdateRoute; K ADS streams split across the replicas, RDS)`);
  const bin = findEtcd();
  if (!bin) {
    console.log('skipped: no etcd here (apt-get install etcd-server, or set MESHD_ETCD)');
    return;
  }
  const etcd = await startEtcd(bin);
  try {
    console.log('| K streams | all streams updated p50 / slowest ms (from the call) | replica RSS MB (0 / 1 / 2) |');
    console.log('|---:|---:|---:|');
    for (const k of ks) console.log(await runK(k, rounds, etcd.endpoint));
  } finally {
    await etcd.stop();
  }
}

if (process.argv[2] === 'replica') {
  const [work, index, prefix, endpoint] = process.argv.slice(3);
  replicaMain(work!, Number(index), prefix!, endpoint!).catch((err: Error) => { console.error(err); process.exit(1); });
} else if (process.argv[2] === 'client') {
  clientMain();
} else {
  main(process.argv.slice(2)).catch((err: Error) => { console.error(err.message); process.exitCode = 1; });
}
