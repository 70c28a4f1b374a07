// Bench: App Mesh API write -> every proxy updated. meshd (its own process) serves a mesh of K
// client virtual nodes that all call one service behind a virtual router; a load process holds K
// ADS streams (one per client node, RDS by wildcard, ACKing every response). Each round shifts the
// route's weights with UpdateRoute (the real SDK, SigV4-signed) and times, from the call, the API's
// answer and the moment the last of the K streams has received and ACKed the new routes.
// Run: node dist/bench/api-write.js [--k 1000] [--rounds 5]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AppMeshClient, UpdateRouteCommand } from '@aws-sdk/client-app-mesh';
import { createKey } from '../src/api/keys';
import { CREDENTIAL_HEADER, NodeCredentials } from '../src/auth/node-credential';
import { Meshd } from '../src/runtime/meshd';
import { TypeUrl } from '../src/xds/type-urls';
import { ChildPeer, emitEvent, nowMs, serveCommands } from './ipc';
import { ackRequest, initialRequest, readResponseHeader } from './proto-bytes';
import { median } from './report';

// The pinned SDK works on Node 20; its notice that later versions will need Node 22 is not a test result.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const PER_CHANNEL = 250;
const REGION = 'us-east-1';
const passThrough = (value: Buffer): Buffer => value;

export function routeSpec(v1: number): Record<string, unknown> {
  return { httpRoute: { match: { prefix: '/' }, action: { weightedTargets: [{ virtualNode: 'v1', weight: v1 }, { virtualNode: 'v2', weight: 100 - v1 }] } } };
}

export function writeMesh(dir: string, k: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const server = (name: string): object => ({
    kind: 'VirtualNode', meshName: 'bench', virtualNodeName: name,
    spec: { listeners: [{ portMapping: { port: 8080, protocol: 'http' } }], serviceDiscovery: { dns: { hostname: `${name}.bench.local` } } },
  });
  fs.writeFileSync(path.join(dir, 'service.json'), JSON.stringify([
    { kind: 'Mesh', meshName: 'bench', spec: {} },
    server('v1'), server('v2'),
    { kind: 'VirtualRouter', meshName: 'bench', virtualRouterName: 'svc', spec: { listeners: [{ portMapping: { port: 8080, protocol: 'http' } }] } },
    { kind: 'VirtualService', meshName: 'bench', virtualServiceName: 'svc.bench.local', spec: { provider: { virtualRouter: { virtualRouterName: 'svc' } } } },
  ]));
  fs.writeFileSync(path.join(dir, 'route.json'), JSON.stringify({ kind: 'Route', meshName: 'bench', virtualRouterName: 'svc', routeName: 'split', spec: routeSpec(100) }));
  fs.writeFileSync(path.join(dir, 'clients.json'), JSON.stringify(Array.from({ length: k }, (_, i) => ({
    kind: 'VirtualNode', meshName: 'bench', virtualNodeName: `c${i}`,
    spec: { serviceDiscovery: { dns: { hostname: `c${i}.bench.local` } }, backends: [{ virtualService: { virtualServiceName: 'svc.bench.local' } }] },
  }))));
}

// ---------------------------------------------------------------- server process
async function serverMain(work: string): Promise<void> {
  const meshd = await Meshd.start({
    configDir: path.join(work, 'mesh'),
    xds: ['127.0.0.1:0'],
    sdsSocket: path.join(work, 'state', 'sds.sock'),
    stateDir: path.join(work, 'state'),
    trustDomain: 'bench.meshd',
    api: { address: '127.0.0.1:0', keysFile: path.join(work, 'state', 'api-keys.json'), region: REGION, account: '111122223333', ratePerSecond: 1000, rateBurst: 1000 },
  });
  serveCommands('meshd', (command) => {
    if (command.type === 'addresses') return { xds: meshd.xdsAddresses[0], api: meshd.apiServer!.url };
    if (command.type === 'cpu') {
      const cpu = process.cpuUsage();
      return (cpu.user + cpu.system) / 1000;
    }
    throw new Error(`unknown command ${String(command.type)}`);
  });
}

// ---------------------------------------------------------------- load process
function clientMain(): void {
  const channels: grpc.Client[] = [];
  const versions: string[] = [];
  let baseline: string[] = [];
  let updated = 0;
  let watching = false;
  serveCommands('load', async (command) => {
    if (command.type === 'open') {
      const k = Number(command.k);
      const credentials = NodeCredentials.loadOrCreate(String(command.stateDir));
      for (let i = 0; i < k; i++) {
        if (i % PER_CHANNEL === 0) channels.push(new grpc.Client(String(command.xds), grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
        const nodeId = `mesh/bench/virtualNode/c${i}`;
        const metadata = new grpc.Metadata();
        metadata.set(CREDENTIAL_HEADER, credentials.tokenFor(nodeId));
        const call = channels[channels.length - 1]!.makeBidiStreamRequest(ADS_PATH, passThrough, passThrough, metadata);
        versions.push('');
        call.on('data', (bytes: Buffer) => {
          const header = readResponseHeader(bytes);
          call.write(ackRequest(TypeUrl.RouteConfiguration, header.versionInfo, header.nonce));
          versions[i] = header.versionInfo;
          if (watching && baseline[i] !== undefined && header.versionInfo !== baseline[i]) {
            baseline[i] = undefined as unknown as string;
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
      const deadline = Date.now() + 120_000;
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
async function main(argv: string[]): Promise<void> {
  let ks = [1000];
  let rounds = 5;
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--k') ks = argv[i + 1]!.split(',').map(Number);
    else if (argv[i] === '--rounds') rounds = Number(argv[i + 1]);
    else throw new Error(`unknown option ${argv[i]} (known: --k 1000 --rounds 5)`);
  }
  console.log('\nApp Mesh API write -> every proxy updated (UpdateRoute shifting weights; K ADS streams, one per client node, RDS)');
  console.log('| K streams | API answer p50 ms | all proxies updated p50 / slowest ms (from the call) | server CPU per write ms |');
  console.log('|---:|---:|---:|---:|');
  for (const k of ks) {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-api-bench-'));
    const peers: ChildPeer[] = [];
    try {
      writeMesh(path.join(work, 'mesh'), k);
      const key = createKey(path.join(work, 'state', 'api-keys.json'), 'read-write');
      const server = ChildPeer.start('meshd', __filename, ['server', work], { MESHD_LOG_LEVEL: 'warn' });
      peers.push(server);
      const addresses = await server.request<{ xds: string; api: string }>({ type: 'addresses' });
      const load = ChildPeer.start('load', __filename, ['client']);
      peers.push(load);
      await load.request({ type: 'open', xds: addresses.xds, stateDir: path.join(work, 'state'), k });
      const sdk = new AppMeshClient({ endpoint: addresses.api, region: REGION, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
      const answers: number[] = [];
      const updates: number[] = [];
      const cpu: number[] = [];
      for (let round = 0; round <= rounds; round++) {
        await load.request({ type: 'watch' });
        const cpuBefore = await server.request<number>({ type: 'cpu' });
        const allUpdated = load.waitForEvent((e) => e.type === 'allUpdated', 30_000, () => `not every stream updated (round ${round})`);
        const start = nowMs();
        await sdk.send(new UpdateRouteCommand({ meshName: 'bench', virtualRouterName: 'svc', routeName: 'split', spec: routeSpec(round % 2 === 0 ? 50 : 100) as never }));
        const answered = nowMs();
        const event = await allUpdated;
        const cpuAfter = await server.request<number>({ type: 'cpu' });
        if (round === 0) continue; // warm-up
        answers.push(answered - start);
        updates.push(Number(event.at) - start);
        cpu.push(cpuAfter - cpuBefore);
      }
      sdk.destroy();
      console.log(`| ${k.toLocaleString('en-US')} | ${median(answers).toFixed(0)} | ${median(updates).toFixed(0)} / ${Math.max(...updates).toFixed(0)} | ${median(cpu).toFixed(0)} |`);
    } finally {
      for (const peer of peers) await peer.stop();
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
}

// Imported by bench/replicas.ts for its mesh: run only when started as a script.
if (require.main !== module) {
  // nothing to run
} else if (process.argv[2] === 'server') {
  serverMain(process.argv[3]!).catch((err: Error) => { console.error(err); process.exit(1); });
} else if (process.argv[2] === 'client') {
  clientMain();
} else {
  main(process.argv.slice(2)).catch((err: Error) => { console.error(err.message); process.exitCode = 1; });
}
