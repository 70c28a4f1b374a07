// Bench: one spec file changes in a 1,000-node mesh kept as files (one per resource), served by
// a real meshd (Meshd.start: the MeshWatcher on the directory, the applier, the publisher, SDS).
// Timed from the file write to meshd's "applied" callback, which runs after the rebuilt snapshots
// are published and SDS has followed the model. The watcher's hold-off (a deliberate 100 ms quiet
// period that gathers a burst of edits into one reload) is set to 0 here, so the figure is the
// time meshd takes to notice, load and publish the change. The change alternates one node's
// listener TLS mode between PERMISSIVE and STRICT: a one-warm-up, then measured rounds.
// Each round also reports the process's CPU time (user + system) from the write to the callback:
// meshd runs in this process and the bench does nothing meanwhile, so it is meshd's CPU per change,
// the steadier figure on a busy machine. `--cpu-profile DIR` writes a V8 CPU profile of the
// measured rounds (not the start-up) to DIR.
// Run: node dist/bench/one-file-change.js [--nodes 1000] [--rounds 5] [--cpu-profile DIR]
import * as fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MeshTranslation } from '../src/translate';
import { nodeJson, writeMeshFiles } from './synthetic-mesh';
import { recordVerdict } from './verdict';

const TARGET_MS = 50;
const APPLY_TIMEOUT_MS = 60_000;

interface BenchOptions { nodes: number; rounds: number; cpuProfileDir?: string }

function parseOptions(argv: string[]): BenchOptions {
  const options: BenchOptions = { nodes: 1000, rounds: 5 };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--help') {
      console.log('node dist/bench/one-file-change.js [--nodes N (1000)] [--rounds N (5)] [--cpu-profile DIR]');
      process.exit(0);
    }
    if (argv[i] === '--cpu-profile') {
      if (!argv[i + 1]) throw new Error('--cpu-profile needs a directory');
      options.cpuProfileDir = argv[i + 1]!;
      continue;
    }
    const value = Number(argv[i + 1]);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${argv[i]} needs a positive integer`);
    if (argv[i] === '--nodes') options.nodes = value;
    else if (argv[i] === '--rounds') options.rounds = value;
    else throw new Error(`unknown option ${argv[i]} (known: --nodes N --rounds N --cpu-profile DIR)`);
  }
  return options;
}

interface Applied { revision: number; translation: MeshTranslation; at: number }

async function startProfiler(): Promise<Session> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return session;
}

/** Stops the profiler and writes its profile under `dir`; returns the file written. */
async function stopProfiler(session: Session, dir: string): Promise<string> {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `one-file-change-${Date.now()}.cpuprofile`);
  fs.writeFileSync(file, JSON.stringify(profile));
  return file;
}

async function main(): Promise<void> {
  const { nodes, rounds, cpuProfileDir } = parseOptions(process.argv.slice(2));
  // Before meshd's modules load: its logger reads the level once.
  process.env.MESHD_LOG_LEVEL ??= 'warn';
  const { Meshd } = await import('../src/runtime/meshd');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-bench-onefile-'));
  const specs = path.join(work, 'specs');
  fs.mkdirSync(specs);
  writeMeshFiles(specs, nodes);

  let waiting: { after: number; resolve: (applied: Applied) => void } | undefined;
  const startedAt = performance.now();
  const meshd = await Meshd.start({
    configDir: specs, xds: ['127.0.0.1:0'], sdsSocket: path.join(work, 'sds.sock'), stateDir: path.join(work, 'state'),
    trustDomain: 'meshd.local', reloadHoldOffMs: 0,
    onApplied: (revision, translation) => {
      if (waiting && revision > waiting.after) waiting.resolve({ revision, translation, at: performance.now() });
    },
  });
  try {
    console.log(`one-file-change: ${nodes} virtual nodes as ${2 * nodes + 1} files; meshd started in ${(performance.now() - startedAt).toFixed(0)} ms`);
    const changed = Math.floor(nodes / 2);
    const file = path.join(specs, `node-${changed}.json`);
    const samples: number[] = [];
    const cpuSamples: number[] = [];
    let profiler: Session | undefined;
    for (let round = 0; round <= rounds; round++) {
      if (round === 1 && cpuProfileDir) profiler = await startProfiler();
      const before = meshd.watcher.current?.revision ?? 0;
      const applied = new Promise<Applied>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the change of round ${round} was not applied within ${APPLY_TIMEOUT_MS} ms`)), APPLY_TIMEOUT_MS);
        waiting = { after: before, resolve: (value) => { clearTimeout(timer); resolve(value); } };
      });
      const mode = round % 2 === 0 ? 'PERMISSIVE' : 'STRICT';
      const cpuBefore = process.cpuUsage();
      const writtenAt = performance.now();
      fs.writeFileSync(file, JSON.stringify(nodeJson(changed, nodes, mode)));
      const result = await applied;
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const ms = result.at - writtenAt;
      const name = round === 0 ? 'warm-up' : `round ${round} of ${rounds}`;
      console.log(`  ${name}: node-${changed} -> ${mode}: published in ${ms.toFixed(1)} ms, ${cpuMs.toFixed(1)} ms CPU (revision ${result.revision}; ${result.translation.rebuilt.length} snapshots rebuilt, ${result.translation.reused.length} reused)`);
      if (round > 0) {
        samples.push(ms);
        cpuSamples.push(cpuMs);
      }
    }
    if (profiler && cpuProfileDir) console.log(`  CPU profile of the measured rounds: ${await stopProfiler(profiler, cpuProfileDir)}`);
    const cpuSorted = [...cpuSamples].sort((a, b) => a - b);
    console.log(`  CPU per change: p50 ${cpuSorted[Math.floor(cpuSorted.length / 2)]!.toFixed(1)} ms, max ${cpuSorted[cpuSorted.length - 1]!.toFixed(1)} ms`);
    const sorted = [...samples].sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)]!;
    recordVerdict({ id: 'one-file-change', measured: `${p50.toFixed(1)} ms (p50 of ${samples.length}; max ${sorted[sorted.length - 1]!.toFixed(1)} ms; hold-off 0)`, met: p50 <= TARGET_MS });
  } finally {
    await meshd.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('one-file-change failed:', err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
