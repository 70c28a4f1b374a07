// Turning measured pushes into the summary table and the verdict against issue 2's targets.

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
}

export interface KResult {
  k: number;
  meshd: PhaseResult;
  baseline: PhaseResult;
}

export const TARGETS = {
  /** At 10,000 streams every stream has the update within this time. */
  wallMsAt10k: 1000,
  /** meshd's RSS at 10,000 streams. */
  rssMbAt10k: 400,
  /** meshd's time (and CPU) as a multiple of the bare baseline's. */
  ratio: 1.5,
} as const;

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

/** One line per target: met, missed, or not measured in this run. */
export function formatVerdict(results: readonly KResult[]): string {
  const lines: string[] = [];
  const at10k = results.find((r) => r.k === 10_000);
  if (at10k) {
    const m = summarize(at10k.meshd);
    lines.push(`${m.wallMax <= TARGETS.wallMsAt10k ? 'MET   ' : 'MISSED'} 10,000 streams updated within ${TARGETS.wallMsAt10k} ms: slowest push ${fixed(m.wallMax)} ms (p50 ${fixed(m.wallP50)} ms)`);
    lines.push(`${m.rssMb < TARGETS.rssMbAt10k ? 'MET   ' : 'MISSED'} RSS under ${TARGETS.rssMbAt10k} MB at 10,000 streams: ${fixed(m.rssMb)} MB`);
  } else {
    lines.push('n/a    10,000-stream targets (time, RSS): K=10000 was not run');
  }
  for (const r of results) {
    const m = summarize(r.meshd);
    const b = summarize(r.baseline);
    const wallRatio = m.wallP50 / b.wallP50;
    const cpuRatio = m.cpuP50 / b.cpuP50;
    const met = wallRatio < TARGETS.ratio && cpuRatio < TARGETS.ratio;
    lines.push(`${met ? 'MET   ' : 'MISSED'} ratio to bare baseline under ${TARGETS.ratio} at K=${r.k}: wall ${fixed(wallRatio, 2)}, CPU ${fixed(cpuRatio, 2)}`);
  }
  return lines.join('\n');
}
