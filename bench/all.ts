// `npm run bench`: every benchmark in turn, each in its own process (a fresh heap and event loop,
// so one cannot tax the next), then the summary of issue 18's targets collected from all of them.
// Arguments after `--` are not forwarded: each script is run with its defaults, the figures the
// README quotes; run a script by itself (`node dist/bench/<name>.js --help`) for other settings.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatSummary, readVerdicts, VERDICTS_FILE_ENV } from './verdict';

const SCRIPTS = ['run.js', 'idle-rss.js', 'translate-mesh.js', 'one-file-change.js', 'pki-issuance.js', 'sds-rotation.js', 'api-write.js', 'replicas.js'];

function main(): number {
  const results = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-bench-')), 'verdicts.jsonl');
  const startedAt = Date.now();
  console.log(`meshd bench: ${SCRIPTS.length} benchmarks; Node ${process.version}; ${os.cpus().length} CPUs; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  let failed = 0;
  for (const script of SCRIPTS) {
    console.log(`\n=== ${script} ===`);
    const run = spawnSync(process.execPath, [path.join(__dirname, script)], { stdio: 'inherit', env: { ...process.env, [VERDICTS_FILE_ENV]: results } });
    if (run.status !== 0) {
      failed++;
      console.log(`${script} failed (${run.signal ?? `exit ${run.status}`})`);
    }
  }
  console.log(`\n${formatSummary(readVerdicts(results))}`);
  console.log(`bench total ${((Date.now() - startedAt) / 1000).toFixed(0)} s${failed ? `; ${failed} benchmark(s) failed` : ''}`);
  return failed === 0 ? 0 : 1;
}

process.exit(main());
