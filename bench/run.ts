// `npm run bench`: push fan-out of meshd against a bare grpc-js baseline (issue 2).
// For each K, meshd and then the baseline each get a fresh server process and a fresh load
// client process (so the load never shares the server's event loop or heap). K streams open
// and ACK generation 0; one warm-up push follows, then N measured pushes. A push is timed from
// the publish command to the last stream's ACK; the server's CPU for it is its own cpuUsage delta.
// Options: --k 100,1000,10000  --rounds 5  --per-channel 250
//          --profile DIR  (writes a V8 CPU profile of each server process into DIR)
import * as path from 'node:path';
import { ChildPeer, nowMs, type BenchEvent, type ServerStats } from './ipc';
import { formatTable, formatVerdict, mb, median, type KResult, type PhaseResult, type PushSample } from './report';

interface Options { ks: number[]; rounds: number; perChannel: number; profileDir?: string }

function parseOptions(argv: string[]): Options {
  const options: Options = { ks: [100, 1000, 10_000], rounds: 5, perChannel: 250 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--k') options.ks = value.split(',').map((k) => Number(k.replace(/_/g, '')));
    else if (flag === '--rounds') options.rounds = Number(value);
    else if (flag === '--per-channel') options.perChannel = Number(value);
    else if (flag === '--profile') options.profileDir = path.resolve(value);
    else throw new Error(`unknown option ${flag} (known: --k 100,1000,10000 --rounds N --per-channel N --profile DIR)`);
    i++;
  }
  const positive = (n: number): boolean => Number.isInteger(n) && n > 0;
  if (!options.ks.every(positive)) throw new Error(`--k must be positive integers, got ${argv.join(' ')}`);
  if (!positive(options.rounds) || !positive(options.perChannel)) throw new Error('--rounds and --per-channel must be positive integers');
  return options;
}

/** Each generation's CDS version and the body meshd encoded for it, replayed by the baseline. */
interface Generation { generation: number; version: string; body: string }

type ServerKind = 'meshd' | 'baseline';

const children = new Set<ChildPeer>();
function start(name: string, script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, execArgv: string[] = []): ChildPeer {
  const peer = ChildPeer.start(name, path.join(__dirname, script), args, env, execArgv);
  children.add(peer);
  return peer;
}
function killAll(): void {
  for (const peer of children) peer.kill();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

const PUSH_TIMEOUT_MS = 60_000;
/** After the last ACK, how long the server gets to finish reading ACKs before its CPU is read. */
const SETTLE_MS = 150;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function runPhase(kind: ServerKind, k: number, options: Options, generations: Generation[]): Promise<PhaseResult> {
  const label = `[K=${k} ${kind}]`;
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${kind}-k${k}.cpuprofile`] : [];
  const nodeArgs = ['--expose-gc', ...profile];
  const server = kind === 'meshd'
    ? start(`meshd-server K=${k}`, 'meshd-server.js', [String(k)], { MESHD_LOG_LEVEL: 'warn' }, nodeArgs)
    : start(`bare-server K=${k}`, 'bare-server.js', [], {}, nodeArgs);
  let client: ChildPeer | undefined;
  try {
    const listening = await server.waitForEvent((e) => e.type === 'listening', 30_000, () => 'did not start listening');
    const target = `127.0.0.1:${Number(listening.port)}`;

    // meshd encodes each generation; the baseline replays exactly those bytes.
    const ready = async (generation: number): Promise<string> => {
      if (kind === 'meshd') {
        const built = await server.request<{ version: string; body: string }>({ type: 'prepare', generation });
        generations[generation] = { generation, ...built };
        return built.version;
      }
      const recorded = generations[generation];
      if (!recorded) throw new Error(`${label} generation ${generation} was not recorded by the meshd phase`);
      await server.request({ type: 'load', generation, body: recorded.body });
      return recorded.version;
    };

    const initialVersion = await ready(0);
    await server.request({ type: 'publish', generation: 0 });
    client = start(`ads-load-client K=${k}`, 'ads-load-client.js');
    client.onEvent((event: BenchEvent) => {
      if (event.type === 'progress') console.log(`${label} opening: ${event.opened} streams started, ${event.acked} have ACKed generation 0`);
    });
    const opened = await client.request<{ ms: number; channels: number }>({ type: 'open', target, k, perChannel: options.perChannel, version: initialVersion }, 180_000);
    const afterOpen = await server.request<ServerStats>({ type: 'stats' });
    console.log(`${label} ${k} streams open on ${opened.channels} channels and ACKed generation 0 in ${opened.ms.toFixed(0)} ms; server RSS ${mb(afterOpen.rssBytes).toFixed(1)} MB, ${afterOpen.openStreams} streams`);

    const samples: PushSample[] = [];
    const total = options.rounds + 1;
    for (let round = 0; round < total; round++) {
      const generation = round + 1;
      const version = await ready(generation);
      await client.request({ type: 'expect', version });
      const acked = client.waitForEvent((e) => (e.type === 'allAcked' && e.version === version) || e.type === 'streamFailed', PUSH_TIMEOUT_MS,
        () => `not every stream ACKed generation ${generation}`);
      const publishedAt = nowMs();
      const published = await server.request<{ cpuMsAtStart: number; syncMs: number }>({ type: 'publish', generation });
      const event = await acked;
      if (event.type === 'streamFailed') throw new Error(`${label} ${String(event.message)}`);
      await sleep(SETTLE_MS);
      const stats = await server.request<ServerStats>({ type: 'stats' });
      const sample = { wallMs: Number(event.lastAckAt) - publishedAt, cpuMs: stats.cpuMs - published.cpuMsAtStart, syncMs: published.syncMs };
      const name = round === 0 ? 'warm-up' : `round ${round} of ${options.rounds}`;
      console.log(`${label} ${name}: all ${k} ACKed in ${sample.wallMs.toFixed(1)} ms; server CPU ${sample.cpuMs.toFixed(1)} ms (publish call ${sample.syncMs.toFixed(1)} ms)`);
      if (round > 0) samples.push(sample);
    }
    const afterPushes = await server.request<ServerStats>({ type: 'stats' });
    // One response per stream per generation (0, warm-up, rounds), each ACKed once; more would
    // mean the server sent something twice, and the timings would not compare like with like.
    const clientStats = await client.request<{ acksSent: number }>({ type: 'stats' });
    const expectedAcks = k * (total + 1);
    if (clientStats.acksSent !== expectedAcks) {
      console.log(`${label} WARNING: the client sent ${clientStats.acksSent} ACKs, expected ${expectedAcks} (one per stream per generation)`);
    }
    await client.request({ type: 'close' });
    return { samples, rssOpenBytes: afterOpen.rssBytes, rssAfterBytes: afterPushes.rssBytes, openMs: opened.ms };
  } finally {
    for (const peer of [client, server]) {
      if (!peer) continue;
      await peer.stop();
      children.delete(peer);
    }
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = nowMs();
  console.log(`push fan-out bench: K = ${options.ks.join(', ')}; ${options.rounds} measured rounds after 1 warm-up; ${options.perChannel} streams per channel; Node ${process.version}`);
  const results: KResult[] = [];
  for (const k of options.ks) {
    const generations: Generation[] = [];
    const meshd = await runPhase('meshd', k, options, generations);
    const baseline = await runPhase('baseline', k, options, generations);
    results.push({ k, meshd, baseline });
    const ratio = median(meshd.samples.map((s) => s.wallMs)) / median(baseline.samples.map((s) => s.wallMs));
    console.log(`[K=${k}] done: wall ratio meshd/baseline ${ratio.toFixed(2)}; response ${Buffer.from(generations[1]!.body, 'base64').length} bytes`);
  }
  console.log('');
  console.log(formatTable(results));
  console.log('');
  console.log('Targets (p50 of measured rounds; CPU = server process CPU per push; RSS = max of after-open and after-pushes):');
  console.log(formatVerdict(results));
  console.log(`\ntotal ${((nowMs() - startedAt) / 1000).toFixed(1)} s`);
}

main().then(
  () => {
    killAll();
    process.exit(0);
  },
  (err: unknown) => {
    console.error('bench failed:', err instanceof Error ? err.message : err);
    killAll();
    process.exit(1);
  },
);
