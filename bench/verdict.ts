// Issue 18's targets, one row each, and how a benchmark reports against them. Every bench script
// calls recordVerdict for the rows it measures: the line is printed at once and, when run under
// `npm run bench` (bench/all.ts), appended to a results file that the closing summary reads, so
// the end of a run shows every target with MET, MISSED or "not measured" beside it.
import * as fs from 'node:fs';

/** Environment variable naming the results file (JSON lines) bench/all.ts collects. */
export const VERDICTS_FILE_ENV = 'MESHD_BENCH_VERDICTS';

/** The targets, in the order the summary prints them. `target` is the text printed beside it. */
export const TARGET_ROWS = [
  { id: 'push-cpu-ratio-10k', figure: 'server CPU per push, 10k streams, ratio to the pre-encoded baseline', target: '<= 1.15x' },
  { id: 'push-cpu-ratio-20k', figure: 'server CPU per push, 20k streams, ratio to the pre-encoded baseline', target: '<= 1.15x' },
  { id: 'slowest-push-10k', figure: 'slowest stream updated after a change, 10k streams', target: '<= 1,000 ms' },
  { id: 'slowest-push-20k', figure: 'slowest stream updated after a change, 20k streams', target: '<= 2,000 ms' },
  { id: 'rss-10k', figure: 'RSS with 10k ADS streams after pushes', target: '<= 250 MB' },
  { id: 'rss-20k', figure: 'RSS with 20k ADS streams after pushes', target: '<= 400 MB' },
  { id: 'idle-rss', figure: 'idle RSS (demo mesh, no proxies)', target: '<= 60 MB' },
  { id: 'subscribe-ratio-10k', figure: 'initial subscribe of 10k streams, ratio to the baseline', target: '<= 1.2x' },
  { id: 'one-file-change', figure: 'one-file change in a 1,000-node mesh, file event -> snapshots published', target: '<= 50 ms' },
  { id: 'translate-1000', figure: 'full translation of a 1,000-node, 5-backend mTLS mesh', target: '<= 500 ms' },
  { id: 'issuance-rate', figure: 'leaf issuance, ECDSA P-256', target: '>= 10,000/s' },
  { id: 'sds-rotate-10k', figure: 'SDS: 10,000 distinct leaves rotated, all ACKed', target: '<= 2,000 ms' },
  { id: 'sds-cold-start-10k', figure: 'SDS: 10,000 endpoints cold start (reconnect, each needs a leaf)', target: '<= 3,000 ms' },
  { id: 'sds-bundle-10k-time', figure: 'SDS: CA bundle to 10,000 distinct endpoints, time', target: '<= 1,000 ms' },
  { id: 'sds-bundle-10k-rss', figure: 'SDS: CA bundle to 10,000 distinct endpoints, RSS', target: '<= 350 MB' },
] as const;

export type TargetId = (typeof TARGET_ROWS)[number]['id'];

export interface Verdict {
  id: TargetId;
  /** What was measured, with its unit, e.g. "1,234 ms" or "1.31x (meshd 391 ms / baseline 289 ms CPU)". */
  measured: string;
  met: boolean;
}

/** Prints one target's line and hands it to the summary. */
export function recordVerdict(verdict: Verdict): void {
  const row = TARGET_ROWS.find((candidate) => candidate.id === verdict.id);
  if (!row) throw new Error(`unknown bench target ${verdict.id}`);
  console.log(`${formatMark(verdict.met)} ${row.figure}: ${verdict.measured} (target ${row.target})`);
  const file = process.env[VERDICTS_FILE_ENV];
  if (file) fs.appendFileSync(file, `${JSON.stringify(verdict)}\n`);
}

function formatMark(met: boolean | undefined): string {
  return met === undefined ? 'n/a   ' : met ? 'MET   ' : 'MISSED';
}

/** The closing table: every target, with the last verdict recorded for it in this run. */
export function formatSummary(verdicts: readonly Verdict[]): string {
  const lines = ['Issue 18 targets (this run):'];
  for (const row of TARGET_ROWS) {
    const verdict = [...verdicts].reverse().find((candidate) => candidate.id === row.id);
    lines.push(`${formatMark(verdict?.met)} ${row.figure}: ${verdict ? verdict.measured : 'not measured in this run'} (target ${row.target})`);
  }
  const met = verdicts.length === 0 ? 0 : TARGET_ROWS.filter((row) => [...verdicts].reverse().find((v) => v.id === row.id)?.met === true).length;
  lines.push(`${met} of ${TARGET_ROWS.length} targets met`);
  return lines.join('\n');
}

export function readVerdicts(file: string): Verdict[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Verdict);
}
