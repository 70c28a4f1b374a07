// SDS rotation fan-out (issue 3): K SDS streams on meshd's Unix socket, each ACKing every
// response; time from a rotation until every stream has received and ACKed the rotated secret.
//   bundle:     a CA rollover starts; the new trust bundle reaches K streams of K distinct endpoints
//   replicas:   leaves rotate for 100 endpoints whose K proxies share them (replicas of a node)
//   leaves:     leaves rotate for K distinct endpoints (an explicit fleet rotate: K new keys and
//               certificates)
//   cold-start: meshd restarts (killed, then started again on the same state directory: the CA is
//               loaded, no leaf survives) and the K proxies of K distinct endpoints reconnect at
//               once; time from the reconnect until every stream holds its leaf and bundle
// The server and the load client are separate processes; server CPU per rotation is reported.
// Each scenario runs --repeats times (default 3) on a fresh server, the scenarios interleaved
// (bundle, replicas, leaves, cold-start, bundle, ...); the table and the verdicts give the median.
// Run: node dist/bench/sds-rotation.js [--k 1000,10000] [--scenario bundle,replicas,leaves,cold-start]
//      [--repeats N] [--profile DIR]  (each server process writes V8 CPU profiles, one per thread, into a
//      directory of its own under DIR when it exits) [--heap DIR]  (the server writes a V8 heap
//      snapshot into DIR once the K streams hold their secrets, and again after the rotation)
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as grpc from '@grpc/grpc-js';
import { nowMs } from './ipc';
import { ackRequest, readResponseHeader } from './proto-bytes';
import { recordVerdict } from './verdict';
import { NodeCredentials, CREDENTIAL_HEADER } from '../src/auth/node-credential';
import { EndpointCertificates, TrustAuthority } from '../src/pki';
import { SecretCache } from '../src/sds/secret-cache';
import { startSdsServer } from '../src/sds/sds-server';
import { messageType } from '../src/xds/protos';
import { TypeUrl } from '../src/xds/type-urls';

const SCENARIOS = ['bundle', 'replicas', 'leaves', 'cold-start'] as const;
type Scenario = (typeof SCENARIOS)[number];
const PER_CHANNEL = 250;
const raw = (b: Buffer): Buffer => b;
const MB = 2 ** 20;

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
    else if (message.command === 'memory') reply(process.memoryUsage());
    else if (message.command.startsWith('heap ')) reply(v8.writeHeapSnapshot(message.command.slice('heap '.length)));
    // A clean exit, so that --cpu-prof writes its profile (a killed process writes none).
    else if (message.command === 'exit') process.exit(0);
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
  const names = ['default', 'ROOTCA'];
  // Envoy repeats its subscription in every request, ACKs included; an ACK without names would
  // turn the stream into a wildcard one (every secret the node may have, pushed once more).
  const ackNames = Buffer.from(Request.encode(Request.fromObject({ resourceNames: names })).finish());
  let versions: string[] = [];
  const baseline: string[] = new Array(k).fill('');
  let changed = 0;
  let held = 0;
  let watching = false;
  let clients: grpc.Client[] = [];
  const report = (): void => {
    if (watching && changed === k) {
      watching = false;
      process.send!({ id: -1, event: 'all-rotated', at: nowMs() });
    }
  };
  // Opens K streams at once (as proxies do after meshd restarts), each asking for its leaf and the
  // bundle; 'all-held' is reported when the last of them has received its first response.
  const openAll = (): void => {
    for (const client of clients) client.close();
    clients = [];
    versions = new Array(k).fill('');
    held = 0;
    const generation = versions;
    for (let i = 0; i < k; i++) {
      if (i % PER_CHANNEL === 0) clients.push(new grpc.Client(`unix:${socketPath}`, grpc.credentials.createInsecure(), { 'grpc.max_concurrent_streams': PER_CHANNEL + 10 }));
      const nodeId = `mesh/bench/virtualNode/n${i % endpoints}`;
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, credentials.tokenFor(nodeId));
      const call = clients[clients.length - 1]!.makeBidiStreamRequest('/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets', raw, raw, metadata);
      call.on('data', (bytes: Buffer) => {
        if (generation !== versions) return; // a stream of the connections before the restart
        const header = readResponseHeader(bytes);
        call.write(Buffer.concat([ackRequest(TypeUrl.Secret, header.versionInfo, header.nonce), ackNames]));
        if (versions[i] === '' && ++held === k) process.send!({ id: -1, event: 'all-held', at: nowMs() });
        versions[i] = header.versionInfo;
        if (watching && versions[i] !== baseline[i] && baseline[i] !== '__counted') {
          baseline[i] = '__counted';
          changed++;
          report();
        }
      });
      call.on('error', () => undefined);
      call.write(Buffer.from(Request.encode(Request.fromObject({ node: { id: nodeId }, typeUrl: TypeUrl.Secret, resourceNames: names })).finish()));
    }
  };
  process.on('message', (message: { id: number; command: string }) => {
    if (message.command === 'open') {
      const at = nowMs();
      openAll();
      process.send!({ id: message.id, result: at });
    } else if (message.command === 'cpu') {
      process.send!({ id: message.id, result: process.cpuUsage() });
    } else if (message.command === 'exit') {
      process.exit(0); // a clean exit, so that --cpu-prof writes its profile

    } else if (message.command === 'ready?') {
      process.send!({ id: message.id, result: held });
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
interface Peer {
  child: ChildProcess;
  request<T>(command: string): Promise<T>;
  next(event: string, timeoutMs: number): Promise<{ at: number }>;
  /** Asks a server to exit cleanly (writing its profile), killing it if it has not within 5 s. */
  exit(): Promise<void>;
}

function start(args: string[], execArgv: string[] = []): Promise<Peer> {
  const child = fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  const events: { event: string; at: number }[] = [];
  const eventWaiters = new Map<string, (e: { event: string; at: number }) => void>();
  child.on('message', (message: { id: number; result?: unknown; event?: string; at?: number }) => {
    if (message.event) {
      const e = { event: message.event, at: message.at! };
      const waiter = eventWaiters.get(e.event);
      eventWaiters.delete(e.event);
      if (waiter) waiter(e);
      else events.push(e);
      return;
    }
    waiting.get(message.id)?.(message.result);
    waiting.delete(message.id);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    waiting.set(0, () => resolve({
      child,
      request: <T>(command: string) => new Promise<T>((res) => {
        const id = nextId++;
        waiting.set(id, res as (r: unknown) => void);
        child.send({ id, command });
      }),
      next: (event, timeoutMs) => new Promise((res, rej) => {
        const queued = events.findIndex((e) => e.event === event);
        if (queued >= 0) return res(events.splice(queued, 1)[0]!);
        const timer = setTimeout(() => rej(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
        eventWaiters.set(event, (e) => { clearTimeout(timer); res(e); });
      }),
      exit: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.send({ id: -1, command: 'exit' });
        await exited;
        clearTimeout(timer);
      },
    }));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

interface Outcome { scenario: Scenario; k: number; endpoints: number; wallMs: number; cpuMs: number; clientCpuMs: number; rssOpenBytes: number; rssAfterBytes: number }

/** Several runs of one scenario at one K, and the median run (by wall time). */
interface Summary { median: Outcome; runs: readonly Outcome[]; wallMs: number[] }

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1]!;
}

function summarize(runs: readonly Outcome[]): Summary {
  const median = medianOf(runs.map((r) => r.wallMs));
  return { median: runs.find((r) => r.wallMs === median)!, runs, wallMs: runs.map((r) => r.wallMs) };
}

async function runScenario(scenario: Scenario, k: number, run: number, profileDir: string | undefined, heapDir: string | undefined): Promise<Outcome> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-sds-bench-'));
  const peers: Peer[] = [];
  let serverRuns = 0;
  const startServer = async (): Promise<Peer> => {
    // A directory per server process: its key workers write profiles of their own beside the main thread's.
    const dir = profileDir && path.join(profileDir, `sds-${scenario}-k${k}-run${run}-server-${++serverRuns}`);
    const server = await start(['server', stateDir], dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []);
    peers.push(server);
    return server;
  };
  const label = `[${scenario} K=${k} run ${run}]`;
  try {
    let server = await startServer();
    const socketPath = await server.request<string>('socket');
    const endpoints = endpointsFor(scenario, k);
    const clientProfile = profileDir && path.join(profileDir, `sds-${scenario}-k${k}-run${run}-client`);
    const client = await start(['client', socketPath, stateDir, String(k), String(endpoints)], clientProfile ? ['--cpu-prof', `--cpu-prof-dir=${clientProfile}`] : []);
    peers.push(client);
    const openedAt = await client.request<number>('open');
    const progress = setInterval(() => {
      if (process.stdout.isTTY) void client.request<number>('ready?').then((ready) => process.stdout.write(`\r${label} ${ready}/${k} streams hold their secrets`));
    }, 500);
    try {
      const held = await client.next('all-held', 300_000);
      process.stdout.write(`\r${label} ${k}/${k} streams hold their secrets after ${((held.at - openedAt) / 1000).toFixed(1)} s (${endpoints} endpoints issued)\n`);
    } finally {
      clearInterval(progress);
    }
    if (scenario === 'cold-start') {
      // The restart: the server dies without a word to its streams, a new one opens the same state.
      server.child.kill('SIGKILL');
      server = await startServer();
      await server.request<string>('socket');
    }
    const memory = await server.request<NodeJS.MemoryUsage>('memory');
    console.log(`${label} server memory: RSS ${(memory.rss / MB).toFixed(0)} MB, JS heap ${(memory.heapUsed / MB).toFixed(0)} MB used of ${(memory.heapTotal / MB).toFixed(0)}, buffers ${(memory.arrayBuffers / MB).toFixed(0)} MB`);
    const rssOpen = memory.rss;
    const heapSnapshot = async (when: string): Promise<void> => {
      if (!heapDir) return;
      const file = await server.request<string>(`heap ${path.join(heapDir, `sds-${scenario}-k${k}-run${run}-${when}.heapsnapshot`)}`);
      console.log(`${label} heap snapshot ${when}: ${file}`);
    };
    await heapSnapshot('open');
    const cpuBefore = await server.request<NodeJS.CpuUsage>('cpu');
    const clientCpuBefore = await client.request<NodeJS.CpuUsage>('cpu');
    let startedAt: number;
    let done: { at: number };
    if (scenario === 'cold-start') {
      startedAt = await client.request<number>('open');
      done = await client.next('all-held', 300_000);
    } else {
      await client.request('watch');
      startedAt = nowMs();
      await server.request(scenario === 'bundle' ? 'rotate-bundle' : 'rotate-leaves');
      done = await client.next('all-rotated', 300_000);
    }
    const cpuAfter = await server.request<NodeJS.CpuUsage>('cpu');
    const clientCpuAfter = await client.request<NodeJS.CpuUsage>('cpu');
    const rssAfter = await server.request<number>('rss');
    await heapSnapshot('after');
    const wallMs = done.at - startedAt;
    const cpu = (cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system) / 1000;
    const what = scenario === 'cold-start' ? 'every reconnected stream holds its leaf and bundle' : 'every stream ACKed the rotated secret';
    const clientCpu = (clientCpuAfter.user - clientCpuBefore.user + clientCpuAfter.system - clientCpuBefore.system) / 1000;
    console.log(`${label} ${what} ${wallMs.toFixed(0)} ms after the ${scenario === 'cold-start' ? 'reconnect' : 'rotation'} (server CPU ${cpu.toFixed(0)} ms, load client CPU ${clientCpu.toFixed(0)} ms)`);
    await server.exit();
    await client.exit();
    return { scenario, k, endpoints, wallMs, cpuMs: cpu, clientCpuMs: clientCpu, rssOpenBytes: rssOpen, rssAfterBytes: rssAfter };
  } finally {
    for (const peer of peers.reverse()) if (peer.child.exitCode === null && peer.child.signalCode === null) peer.child.kill('SIGKILL');
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

function formatLine({ median: o, wallMs }: Summary): string {
  const runs = wallMs.length > 1 ? `  (runs: ${wallMs.map((ms) => ms.toFixed(0)).join(', ')} ms)` : '';
  return `${o.scenario.padEnd(10)} ${String(o.k).padStart(6)} ${String(o.endpoints).padStart(9)} ${o.wallMs.toFixed(0).padStart(9)} ${o.cpuMs.toFixed(0).padStart(8)} ${o.clientCpuMs.toFixed(0).padStart(10)} ${(o.rssOpenBytes / MB).toFixed(0).padStart(7)}/${(o.rssAfterBytes / MB).toFixed(0)}${runs}`;
}

/** Issue 18's SDS rows, from the K = 10,000 runs of their scenarios (the median run of each). */
function recordVerdicts(summaries: readonly Summary[]): void {
  const at10k = (scenario: Scenario): Summary | undefined => summaries.find((s) => s.median.scenario === scenario && s.median.k === 10_000);
  const ms = (value: number): string => `${Math.round(value).toLocaleString('en-US')} ms`;
  const of = (summary: Summary): string => (summary.wallMs.length > 1 ? `, median of ${summary.wallMs.length} runs: ${summary.wallMs.map((v) => Math.round(v).toLocaleString('en-US')).join(', ')} ms` : '');
  const leaves = at10k('leaves');
  if (leaves) recordVerdict({ id: 'sds-rotate-10k', measured: `${ms(leaves.median.wallMs)} (server CPU ${ms(leaves.median.cpuMs)}${of(leaves)})`, met: leaves.median.wallMs <= 2000 });
  const cold = at10k('cold-start');
  if (cold) recordVerdict({ id: 'sds-cold-start-10k', measured: `${ms(cold.median.wallMs)} (server CPU ${ms(cold.median.cpuMs)}${of(cold)})`, met: cold.median.wallMs <= 3000 });
  const bundle = at10k('bundle');
  if (bundle) {
    recordVerdict({ id: 'sds-bundle-10k-time', measured: `${ms(bundle.median.wallMs)} (server CPU ${ms(bundle.median.cpuMs)}${of(bundle)})`, met: bundle.median.wallMs <= 1000 });
    // As run.ts: the larger of after-open and after-rotation; the median of the runs.
    const each = bundle.runs.map((o) => Math.max(o.rssOpenBytes, o.rssAfterBytes) / MB);
    const rss = medianOf(each);
    recordVerdict({ id: 'sds-bundle-10k-rss', measured: `${rss.toFixed(0)} MB${each.length > 1 ? ` (median of ${each.length} runs: ${each.map((v) => v.toFixed(0)).join(', ')} MB)` : ''}`, met: rss <= 350 });
  }
}

function optionValue(flag: string): string | undefined {
  const at = process.argv.indexOf(flag);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
  return value;
}

async function main(): Promise<void> {
  const ks = (optionValue('--k') ?? '1000,10000').split(',').map((k) => Number(k.replace(/_/g, '')));
  if (!ks.every((k) => Number.isInteger(k) && k > 0)) throw new Error(`--k must be positive integers, got ${ks.join(',')}`);
  const scenarios = (optionValue('--scenario') ?? SCENARIOS.join(',')).split(',') as Scenario[];
  const unknown = scenarios.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
  const profile = optionValue('--profile');
  const profileDir = profile === undefined ? undefined : path.resolve(profile);
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  const heap = optionValue('--heap');
  const heapDir = heap === undefined ? undefined : path.resolve(heap);
  if (heapDir) fs.mkdirSync(heapDir, { recursive: true });
  const repeats = Number(optionValue('--repeats') ?? '3');
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats must be a positive integer, got ${repeats}`);
  console.log(`SDS rotation fan-out: K = ${ks.join(', ')} streams over the Unix socket, ${PER_CHANNEL} per connection; ${repeats} interleaved run(s) of each scenario; Node ${process.version}`);
  const summaries: Summary[] = [];
  for (const k of ks) {
    const runs = new Map<Scenario, Outcome[]>(scenarios.map((scenario) => [scenario, []]));
    for (let run = 1; run <= repeats; run++) {
      for (const scenario of scenarios) runs.get(scenario)!.push(await runScenario(scenario, k, run, profileDir, heapDir));
    }
    for (const scenario of scenarios) summaries.push(summarize(runs.get(scenario)!));
  }
  console.log(`\nscenario        K endpoints   wall ms   CPU ms  client CPU  RSS MB open/after${repeats > 1 ? `  (the median of ${repeats} runs by wall time)` : ''}`);
  for (const summary of summaries) console.log(formatLine(summary));
  console.log('');
  recordVerdicts(summaries);
  if (profileDir) console.log(`CPU profiles of the server processes: ${profileDir}`);
}

const role = process.argv[2];
if (role === 'server') void serverMain(process.argv[3]!);
else if (role === 'client') void clientMain(process.argv[3]!, process.argv[4]!, Number(process.argv[5]), Number(process.argv[6]));
else main().then(() => process.exit(0), (err: Error) => { console.error(`bench failed: ${err.message}`); process.exit(1); });
