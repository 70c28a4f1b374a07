// SDS rotation fan-out (issue 3): K SDS streams on meshd's Unix socket, each ACKing every
// response; time from a rotation until every stream has received and ACKed the rotated secret.
//   bundle:   a CA rollover starts; the new trust bundle reaches K streams of K distinct endpoints
//   replicas: leaves rotate for 100 endpoints whose K proxies share them (replicas of a node)
//   leaves:   leaves rotate for K distinct endpoints (bound by issuance: K new keys and certificates)
// The server and the load client are separate processes; server CPU per rotation is reported.
// Run: node dist/bench/sds-rotation.js [--k 1000,10000] [--scenario bundle,replicas,leaves]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ChildPeer, nowMs } from './ipc';
import { ackRequest, readResponseHeader } from './proto-bytes';
import { NodeCredentials, CREDENTIAL_HEADER } from '../src/auth/node-credential';
import { EndpointCertificates, TrustAuthority } from '../src/pki';
import { SecretCache } from '../src/sds/secret-cache';
import { startSdsServer } from '../src/sds/sds-server';
import { messageType } from '../src/xds/protos';
import { TypeUrl } from '../src/xds/type-urls';

type Scenario = 'bundle' | 'replicas' | 'leaves';
const PER_CHANNEL = 250;
const raw = (b: Buffer): Buffer => b;

function endpointsFor(scenario: Scenario, k: number): number {
  return scenario === 'replicas' ? Math.min(100, k) : k;
}

// ---------------------------------------------------------------- server process
async function serverMain(stateDir: string): Promise<void> {
  const authority = await TrustAuthority.open({ stateDir, trustDomain: 'bench.meshd' });
  // Leaves are re-issued from a new CA only when asked, so a bundle rotation measures the bundle.
  const certificates = new EndpointCertificates({ authority, rolloverReissueDelayMs: 3_600_000 });
  const secrets = new SecretCache({ certificates, trustDomain: 'bench.meshd', policyOf: () => ({ dnsNames: [], fileSecrets: [] }), fileSecret: () => undefined });
  const credentials = NodeCredentials.loadOrCreate(stateDir);
  const socketPath = path.join(stateDir, 'sds.sock');
  await startSdsServer({ socketPath, secrets, identify: credentials.identifier() });
  process.on('message', async (message: { id: number; command: string }) => {
    const reply = (result: unknown): void => { process.send!({ id: message.id, result }); };
    const before = process.cpuUsage();
    if (message.command === 'socket') reply(socketPath);
    else if (message.command === 'rotate-leaves') {
      await certificates.rotate();
      reply({ cpuMs: cpuMs(before) });
    } else if (message.command === 'rotate-bundle') {
      await authority.startRollover();
      reply({ cpuMs: cpuMs(before) });
    } else if (message.command === 'cpu') reply(process.cpuUsage());
    else if (message.command === 'rss') reply(process.memoryUsage().rss);
  });
  process.send!({ id: 0, result: 'ready' });
}

function cpuMs(before: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

// ---------------------------------------------------------------- load client process
async function clientMain(socketPath: string, stateDir: string, k: number, endpoints: number): Promise<void> {
  const credentials = NodeCredentials.loadOrCreate(stateDir);
  const Request = messageType('envoy.service.discovery.v3.DiscoveryRequest');
  const versions: string[] = new Array(k).fill('');
  const baseline: string[] = new Array(k).fill('');
  let changed = 0;
  let watching = false;
  const clients: grpc.Client[] = [];
  const report = (): void => {
    if (watching && changed === k) {
      watching = false;
      process.send!({ id: -1, event: 'all-rotated', at: nowMs() });
    }
  };
  for (let i = 0; i < k; i++) {
    if (i % PER_CHANNEL === 0) clients.push(new grpc.Client(`unix:${socketPath}`, grpc.credentials.createInsecure(), { 'grpc.max_concurrent_streams': PER_CHANNEL + 10 }));
    const nodeId = `mesh/bench/virtualNode/n${i % endpoints}`;
    const metadata = new grpc.Metadata();
    metadata.set(CREDENTIAL_HEADER, credentials.tokenFor(nodeId));
    const call = clients[clients.length - 1]!.makeBidiStreamRequest('/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets', raw, raw, metadata);
    call.on('data', (bytes: Buffer) => {
      const header = readResponseHeader(bytes);
      call.write(ackRequest(TypeUrl.Secret, header.versionInfo, header.nonce));
      versions[i] = header.versionInfo;
      if (watching && versions[i] !== baseline[i] && baseline[i] !== '__counted') {
        baseline[i] = '__counted';
        changed++;
        report();
      }
    });
    call.on('error', () => undefined);
    call.write(Buffer.from(Request.encode(Request.fromObject({ node: { id: nodeId }, typeUrl: TypeUrl.Secret, resourceNames: ['default', 'ROOTCA'] })).finish()));
  }
  process.on('message', (message: { id: number; command: string }) => {
    if (message.command === 'ready?') {
      const ready = versions.filter((v) => v !== '').length;
      process.send!({ id: message.id, result: ready });
    } else if (message.command === 'watch') {
      for (let i = 0; i < k; i++) baseline[i] = versions[i]!;
      changed = 0;
      watching = true;
      process.send!({ id: message.id, result: 'watching' });
    }
  });
  process.send!({ id: 0, result: 'started' });
}

// ---------------------------------------------------------------- orchestrator
interface Peer { child: ChildPeerLike; request<T>(command: string): Promise<T>; next(event: string, timeoutMs: number): Promise<{ at: number }> }
type ChildPeerLike = ReturnType<typeof import('node:child_process').fork>;

function start(args: string[]): Promise<Peer> {
  const child = require('node:child_process').fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }) as ChildPeerLike;
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  const events: { event: string; at: number }[] = [];
  const eventWaiters: ((e: { event: string; at: number }) => void)[] = [];
  child.on('message', (message: { id: number; result?: unknown; event?: string; at?: number }) => {
    if (message.event) {
      const e = { event: message.event, at: message.at! };
      const waiter = eventWaiters.shift();
      if (waiter) waiter(e);
      else events.push(e);
      return;
    }
    waiting.get(message.id)?.(message.result);
    waiting.delete(message.id);
  });
  return new Promise((resolve, reject) => {
    waiting.set(0, () => resolve({
      child,
      request: <T>(command: string) => new Promise<T>((res) => {
        const id = nextId++;
        waiting.set(id, res as (r: unknown) => void);
        child.send({ id, command });
      }),
      next: (event, timeoutMs) => new Promise((res, rej) => {
        const queued = events.shift();
        if (queued) return res(queued);
        const timer = setTimeout(() => rej(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
        eventWaiters.push((e) => { clearTimeout(timer); res(e); });
      }),
    }));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

async function runScenario(scenario: Scenario, k: number): Promise<string> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-sds-bench-'));
  const peers: Peer[] = [];
  try {
    const server = await start(['server', stateDir]);
    peers.push(server);
    const socketPath = await server.request<string>('socket');
    const endpoints = endpointsFor(scenario, k);
    const openedAt = nowMs();
    const client = await start(['client', socketPath, stateDir, String(k), String(endpoints)]);
    peers.push(client);
    for (;;) {
      const ready = await client.request<number>('ready?');
      if (ready === k) break;
      if (process.stdout.isTTY) process.stdout.write(`\r[${scenario} K=${k}] ${ready}/${k} streams hold their secrets`);
      await new Promise((r) => setTimeout(r, 500));
    }
    process.stdout.write(`\r[${scenario} K=${k}] ${k}/${k} streams hold their secrets after ${((nowMs() - openedAt) / 1000).toFixed(1)} s (${endpoints} endpoints issued)\n`);
    const rssOpen = await server.request<number>('rss');
    await client.request('watch');
    const cpuBefore = await server.request<NodeJS.CpuUsage>('cpu');
    const startedAt = nowMs();
    await server.request(scenario === 'bundle' ? 'rotate-bundle' : 'rotate-leaves');
    const done = await client.next('all-rotated', 120_000);
    const cpuAfter = await server.request<NodeJS.CpuUsage>('cpu');
    const rssAfter = await server.request<number>('rss');
    const wall = done.at - startedAt;
    const cpu = (cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system) / 1000;
    const line = `${scenario.padEnd(8)} ${String(k).padStart(6)} ${String(endpoints).padStart(9)} ${wall.toFixed(0).padStart(9)} ${cpu.toFixed(0).padStart(8)} ${(rssOpen / 2 ** 20).toFixed(0).padStart(7)}/${(rssAfter / 2 ** 20).toFixed(0)}`;
    console.log(`[${scenario} K=${k}] every stream ACKed the rotated secret ${wall.toFixed(0)} ms after the rotation (server CPU ${cpu.toFixed(0)} ms)`);
    return line;
  } finally {
    for (const peer of peers.reverse()) peer.child.kill('SIGKILL');
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const kArg = process.argv.indexOf('--k');
  const ks = kArg > 0 ? process.argv[kArg + 1]!.split(',').map(Number) : [1000, 10_000];
  console.log(`SDS rotation fan-out: K = ${ks.join(', ')} streams over the Unix socket, ${PER_CHANNEL} per connection; Node ${process.version}`);
  const sArg = process.argv.indexOf('--scenario');
  const scenarios = (sArg > 0 ? process.argv[sArg + 1]!.split(',') : ['bundle', 'replicas', 'leaves']) as Scenario[];
  const lines: string[] = [];
  for (const k of ks) for (const scenario of scenarios) lines.push(await runScenario(scenario, k));
  console.log('\nscenario      K endpoints   wall ms   CPU ms  RSS MB open/after');
  for (const line of lines) console.log(line);
  const target = lines.filter((l) => l.startsWith('bundle') || l.startsWith('replicas')).every((l) => Number(l.split(/\s+/)[3]) <= 2000);
  console.log(`\n${target ? 'MET' : 'NOT MET'}    10,000 streams rotated within 2 s (bundle and replica rotations; "leaves" re-issues K certificates and is bound by issuance)`);
}

const role = process.argv[2];
if (role === 'server') void serverMain(process.argv[3]!);
else if (role === 'client') void clientMain(process.argv[3]!, process.argv[4]!, Number(process.argv[5]), Number(process.argv[6]));
else main().then(() => process.exit(0), (err: Error) => { console.error(`bench failed: ${err.message}`); process.exit(1); });

export type { ChildPeer };
