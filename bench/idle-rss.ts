// Bench: the resident memory of an idle `meshd serve` (the demo mesh, examples/colorapp, no
// proxies connected), run as a user would run it: its own process, admin server on. RSS is read
// from /proc once meshd has said it is serving and has been idle for 45 s, the median of three
// readings a second apart: V8 keeps the young generation that start-up grew (~32 MB) until its
// memory reducer runs, about 30 s after the last collection, and what an idle meshd holds is what
// is left after that. The reading 3 s after start is printed beside it.
// Run: node dist/bench/idle-rss.js
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { recordVerdict } from './verdict';

const TARGET_MB = 60;
const READY_TIMEOUT_MS = 60_000;
const EARLY_MS = 3000;
const SETTLE_MS = 45_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!kb) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) / 1024;
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../..');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-bench-idle-'));
  fs.cpSync(path.join(root, 'examples/colorapp'), path.join(work, 'mesh'), { recursive: true });
  const child = spawn(process.execPath, [path.join(root, 'bin/meshd.js'), 'serve', '--config', path.join(work, 'mesh'),
    '--state-dir', path.join(work, 'state'), '--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MESHD_LOG_LEVEL: 'warn' },
  });
  try {
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`meshd serve did not say it was serving within ${READY_TIMEOUT_MS} ms:\n${stderr}`)), READY_TIMEOUT_MS);
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/meshd: serving /.test(stderr)) { clearTimeout(timer); resolve(); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`meshd serve exited (${code}):\n${stderr}`)); });
    });
    await sleep(EARLY_MS);
    const early = rssMb(child.pid!);
    process.stdout.write(`idle-rss: ${early.toFixed(1)} MB ${EARLY_MS / 1000} s after start; waiting until ${SETTLE_MS / 1000} s (V8's memory reducer) ...\n`);
    await sleep(SETTLE_MS - EARLY_MS);
    const readings: number[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(1000);
      readings.push(rssMb(child.pid!));
    }
    const median = [...readings].sort((a, b) => a - b)[1]!;
    console.log(`idle-rss: meshd serve on examples/colorapp, no proxies; RSS ${readings.map((r) => r.toFixed(1)).join(', ')} MB after ${SETTLE_MS / 1000} s (${early.toFixed(1)} MB after ${EARLY_MS / 1000} s)`);
    recordVerdict({ id: 'idle-rss', measured: `${median.toFixed(1)} MB (median of 3 readings, ${SETTLE_MS / 1000} s after start; ${early.toFixed(0)} MB after ${EARLY_MS / 1000} s)`, met: median <= TARGET_MB });
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('idle-rss failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
