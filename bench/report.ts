// Turning measured pushes into the summary tables and issue 18's rows (bench/verdict.ts).
import { recordVerdict } from './verdict';

/** One measured push: from the publish command to the last stream's ACK. */
export interface PushSample {
  wallMs: number;
  /** The server process's own CPU time (user + system) for the push and the ACKs it received. */
  cpuMs: number;
  /** Time the server spent in the publish call itself, before any byte left the process. */
  syncMs: number;
}

/** What one server (meshd or the baseline) did at one K. */
export interface PhaseResult {
  samples: PushSample[];
  rssOpenBytes: number;
  rssAfterBytes: number;
  openMs: number;
  /** Reconnect storms of K streams (ms until every stream ACKed), measured rounds; empty if not run. */
  subscribeMs: number[];
}

/** meshd's CPU per push before the fan-out, by stage (medians over measured rounds). */
export interface CpuSplit {
  translateMs: number;
  encodeMs: number;
}

export interface KResult {
  k: number;
  meshd: PhaseResult;
  baseline: PhaseResult;
  split: CpuSplit;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const mb = (bytes: number): number => bytes / (1024 * 1024);
const fixed = (value: number, digits = 1): string => value.toFixed(digits);

export interface PhaseSummary {
  wallP50: number;
  wallMax: number;
  cpuP50: number;
  rssMb: number;
}

export function summarize(phase: PhaseResult): PhaseSummary {
  const walls = phase.samples.map((s) => s.wallMs);
  return {
    wallP50: median(walls),
    wallMax: Math.max(...walls),
    cpuP50: median(phase.samples.map((s) => s.cpuMs)),
    rssMb: mb(Math.max(phase.rssOpenBytes, phase.rssAfterBytes)),
  };
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => cell.padStart(widths[i]!)).join('  ');
}

/** The end-of-run table, one row per K. */
export function formatTable(results: readonly KResult[]): string {
  const header = ['K', 'meshd p50 ms', 'meshd max ms', 'meshd CPU ms', 'meshd RSS MB (open/after)', 'base p50 ms', 'base CPU ms', 'base RSS MB (open/after)', 'wall ratio', 'CPU ratio'];
  const rows = results.map((r) => {
    const m = summarize(r.meshd);
    const b = summarize(r.baseline);
    return [
      String(r.k),
      fixed(m.wallP50), fixed(m.wallMax), fixed(m.cpuP50),
      `${fixed(mb(r.meshd.rssOpenBytes), 0)}/${fixed(mb(r.meshd.rssAfterBytes), 0)}`,
      fixed(b.wallP50), fixed(b.cpuP50), `${fixed(mb(r.baseline.rssOpenBytes), 0)}/${fixed(mb(r.baseline.rssAfterBytes), 0)}`,
      fixed(m.wallP50 / b.wallP50, 2), fixed(m.cpuP50 / b.cpuP50, 2),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [pad(header, widths), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((row) => pad(row, widths))].join('\n');
}

/**
 * meshd's CPU per push by stage: translation (building the resource objects), encoding (protobuf
 * and the shared response), writing (the fan-out to every stream and reading the ACKs, the part
 * the baseline also does); the baseline's writing beside it, and what is left over per push.
 */
export function formatCpuSplit(results: readonly KResult[]): string {
  const header = ['K', 'translate ms', 'encode ms', 'write ms', 'meshd total ms', 'base write ms', 'write - base ms', 'per stream us (meshd/base)'];
  const rows = results.map((r) => {
    const write = summarize(r.meshd).cpuP50;
    const base = summarize(r.baseline).cpuP50;
    return [
      String(r.k), fixed(r.split.translateMs, 2), fixed(r.split.encodeMs, 2), fixed(write), fixed(r.split.translateMs + r.split.encodeMs + write),
      fixed(base), fixed(write - base), `${fixed((write * 1000) / r.k)}/${fixed((base * 1000) / r.k)}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [pad(header, widths), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((row) => pad(row, widths))].join('\n');
}

/** Records issue 18's rows that this run measured (bench/verdict.ts prints and collects them). */
export function recordPushVerdicts(results: readonly KResult[]): void {
  const rows = [
    { k: 10_000, ratio: 'push-cpu-ratio-10k', slowest: 'slowest-push-10k', rss: 'rss-10k', slowestMs: 1000, rssMb: 250 },
    { k: 20_000, ratio: 'push-cpu-ratio-20k', slowest: 'slowest-push-20k', rss: 'rss-20k', slowestMs: 2000, rssMb: 400 },
  ] as const;
  for (const row of rows) {
    const r = results.find((candidate) => candidate.k === row.k);
    if (!r) continue;
    const m = summarize(r.meshd);
    const b = summarize(r.baseline);
    const ratio = m.cpuP50 / b.cpuP50;
    recordVerdict({ id: row.ratio, measured: `${fixed(ratio, 2)}x (meshd ${fixed(m.cpuP50)} ms / baseline ${fixed(b.cpuP50)} ms CPU, p50 of ${r.meshd.samples.length})`, met: ratio <= 1.15 });
    recordVerdict({ id: row.slowest, measured: `${fixed(m.wallMax)} ms (p50 ${fixed(m.wallP50)} ms; baseline max ${fixed(b.wallMax)} ms)`, met: m.wallMax <= row.slowestMs });
    recordVerdict({ id: row.rss, measured: `${fixed(m.rssMb)} MB (baseline ${fixed(b.rssMb)} MB)`, met: m.rssMb <= row.rssMb });
  }
  const storm = results.find((r) => r.k === 10_000 && r.meshd.subscribeMs.length > 0);
  if (storm) {
    const m = median(storm.meshd.subscribeMs);
    const b = median(storm.baseline.subscribeMs);
    recordVerdict({ id: 'subscribe-ratio-10k', measured: `${fixed(m / b, 2)}x (meshd ${fixed(m, 0)} ms / baseline ${fixed(b, 0)} ms, p50 of ${storm.meshd.subscribeMs.length})`, met: m / b <= 1.2 });
  }
}
