// `npm run bench`: push fan-out of meshd against a bare grpc-js baseline (issue 2).
// For each K, meshd and the baseline each get their own server process and their own load client
// process (the load never shares a server's event loop or heap); K streams open on each and ACK
// generation 0. Then, round by round, the same generation is pushed through meshd and through the
// baseline (alternating which goes first): one warm-up round, then N measured ones. A push is
// timed from the publish command to the last stream's ACK; the server's CPU for it is its own
// cpuUsage delta, which is the fair comparison on a small machine where the client competes.
// At the storm K (10,000), a reconnect storm follows: every stream closes and K streams connect and
// subscribe at once, as after a restart, timed until each has ACKed (meshd and baseline alternate).
// Options: --k 100,1000,10000,20000  --rounds 5  --per-channel 250  --storm-k 10000 (0: none)
//          --profile DIR  (writes a V8 CPU profile of each server process into DIR)
import * as path from 'node:path';
import { BenchSide, children } from './bench-side';
import { nowMs } from './ipc';
import { formatCpuSplit, formatTable, median, recordPushVerdicts, type KResult, type PhaseResult } from './report';

interface Options { ks: number[]; rounds: number; perChannel: number; stormK: number; profileDir?: string }

const STORM_ROUNDS = 3;

function parseOptions(argv: string[]): Options {
  const options: Options = { ks: [100, 1000, 10_000, 20_000], rounds: 5, perChannel: 250, stormK: 10_000 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--k') options.ks = value.split(',').map((k) => Number(k.replace(/_/g, '')));
    else if (flag === '--rounds') options.rounds = Number(value);
    else if (flag === '--per-channel') options.perChannel = Number(value);
    else if (flag === '--storm-k') options.stormK = Number(value.replace(/_/g, ''));
    else if (flag === '--profile') options.profileDir = path.resolve(value);
    else throw new Error(`unknown option ${flag} (known: --k 100,1000,10000,20000 --rounds N --per-channel N --storm-k K --profile DIR)`);
  }
  const positive = (n: number): boolean => Number.isInteger(n) && n > 0;
  if (!options.ks.every(positive)) throw new Error(`--k must be positive integers, got ${argv.join(' ')}`);
  if (!positive(options.rounds) || !positive(options.perChannel)) throw new Error('--rounds and --per-channel must be positive integers');
  return options;
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

async function benchOneK(k: number, options: Options): Promise<KResult> {
  const sideOptions = { perChannel: options.perChannel, ...(options.profileDir ? { profileDir: options.profileDir } : {}) };
  const sides: BenchSide[] = [];
  try {
    const { side: meshd, generation0 } = await BenchSide.open('meshd', k, undefined, sideOptions);
    sides.push(meshd);
    const { side: baseline } = await BenchSide.open('baseline', k, generation0, sideOptions);
    sides.push(baseline);

    let responseBytes = 0;
    const translateCpu: number[] = [];
    const encodeCpu: number[] = [];
    for (let round = 0; round <= options.rounds; round++) {
      const generation = round + 1;
      const built = await meshd.ready(generation, undefined);
      await baseline.ready(generation, built);
      responseBytes = Buffer.from(built.body, 'base64').length;
      if (round > 0) {
        translateCpu.push(built.translateCpuMs ?? 0);
        encodeCpu.push(built.encodeCpuMs ?? 0);
      }
      const name = round === 0 ? 'warm-up' : `round ${round} of ${options.rounds}`;
      // Alternate the order so neither side always runs right after the other's garbage.
      const order = round % 2 === 0 ? [meshd, baseline] : [baseline, meshd];
      for (const side of order) await side.push(generation, built.version, name, round > 0);
    }
    const rssAfterPushes = new Map<BenchSide, number>();
    for (const side of sides) rssAfterPushes.set(side, (await side.stats()).rssBytes);
    if (k === options.stormK) {
      // Three storms a side (the median of three): each reopens K streams, the slowest part of a run.
      const storms = Math.min(options.rounds, STORM_ROUNDS);
      for (let round = 1; round <= storms; round++) {
        const order = round % 2 === 0 ? [meshd, baseline] : [baseline, meshd];
        for (const side of order) await side.resubscribe(`reconnect storm ${round} of ${storms}`, true);
      }
    }
    const phase = async (side: BenchSide): Promise<PhaseResult> => {
      await side.finish();
      return {
        samples: side.samples,
        rssOpenBytes: side.rssOpenBytes,
        rssAfterBytes: rssAfterPushes.get(side)!,
        openMs: side.openMs,
        subscribeMs: side.subscribeSamples,
      };
    };
    const split = { translateMs: median(translateCpu), encodeMs: median(encodeCpu) };
    const result: KResult = { k, meshd: await phase(meshd), baseline: await phase(baseline), split };
    const ratio = median(result.meshd.samples.map((s) => s.wallMs)) / median(result.baseline.samples.map((s) => s.wallMs));
    console.log(`[K=${k}] done: wall ratio meshd/baseline ${ratio.toFixed(2)}; each response ${responseBytes} bytes (+ nonce)`);
    return result;
  } finally {
    for (const side of sides.reverse()) await side.stop();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = nowMs();
  console.log(`push fan-out bench: K = ${options.ks.join(', ')}; ${options.rounds} measured rounds after 1 warm-up; ` +
    `${options.perChannel} streams per channel; Node ${process.version}`);
  const results: KResult[] = [];
  for (const k of options.ks) results.push(await benchOneK(k, options));
  console.log('');
  console.log(formatTable(results));
  console.log('');
  console.log('meshd CPU per push by stage (p50 of measured rounds; "write" is the server CPU from publish to the last ACK read):');
  console.log(formatCpuSplit(results));
  console.log('');
  console.log('Targets (p50 of measured rounds; CPU = server process CPU per push; RSS = max of after-open and after-pushes):');
  recordPushVerdicts(results);
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
