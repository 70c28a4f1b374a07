// Output of `meshd verify`: aligned tables a person reads in a terminal, or JSON for scripts.
import { TLS_COUNTERS, type TlsCounters } from './stats';
import type { Finding, VerifyReport } from './report';

/** Left-aligned columns separated by two spaces; every cell already a string. */
export function alignTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function counterCells(tls: TlsCounters | null): string[] {
  return TLS_COUNTERS.map((counter) => (tls && tls[counter] !== undefined ? String(tls[counter]) : '-'));
}

function formatExpiry(remainingMs: number): string {
  if (remainingMs <= 0) return 'EXPIRED';
  const days = Math.floor(remainingMs / 86_400_000);
  return days >= 1 ? `${days}d` : `${Math.floor(remainingMs / 3_600_000)}h`;
}

/** The human-readable report. */
export function renderReportTable(report: VerifyReport): string {
  const { policy } = report;
  const sections: string[] = [
    `Envoy admin ${report.adminUrl}  (strict: ${policy.strict ? 'yes' : 'no'}, expiry threshold: ${policy.expiryDays} days)`,
  ];
  sections[0] += report.postureSource === 'config_dump'
    ? '\nTLS posture: from /config_dump'
    : `\nTLS posture: unknown, /config_dump not used (${report.postureFallbackReason ?? 'not read'}); listeners judged by /stats heuristics (any TLS listener taken for mTLS)`;
  const counterHeader = TLS_COUNTERS.map((c) => `ssl.${c}`);
  sections.push(report.listeners.length === 0 ? 'No listeners.' : alignTable(
    ['LISTENER', 'POSTURE', 'TLS', ...counterHeader, 'cx_total', 'cx_without_tls'],
    report.listeners.map((l) => [
      l.name, l.posture, l.tls ? 'yes' : 'no', ...counterCells(l.tls),
      l.connectionsTotal === undefined ? '-' : String(l.connectionsTotal),
      l.connectionsWithoutTls === undefined ? '-' : String(l.connectionsWithoutTls),
    ]),
  ));
  sections.push(report.clusters.length === 0 ? 'No clusters with TLS.' : alignTable(
    ['CLUSTER', 'POSTURE', ...counterHeader],
    report.clusters.map((c) => [c.name, c.posture, ...counterCells(c.tls)]),
  ));
  sections.push(report.certificates.length === 0 ? 'No certificates.' : alignTable(
    ['CERTIFICATE', 'SERIAL', 'EXPIRES_IN', 'NOT_AFTER', 'CONTEXTS', 'PATH', 'SANS'],
    report.certificates.map((c) => [
      c.role === 'ca' ? 'trust' : 'chain', c.serial || '-', formatExpiry(c.remainingMs), c.expiresAt ?? '-',
      String(c.contexts), c.path || '-', c.sans.join(', ') || '-',
    ]),
  ));
  const count = (level: Finding['level']): number => report.findings.filter((f) => f.level === level).length;
  const failures = count('fail');
  const notes = count('note');
  sections.push(report.findings.length === 0
    ? 'OK: no findings.'
    : [
      `${failures > 0 ? 'FAILED' : 'OK'}: ${failures} failure(s), ${count('warn')} warning(s)${notes > 0 ? `, ${notes} note(s)` : ''}`,
      ...report.findings.map((f) => `  ${f.level.toUpperCase()}  ${f.subject}: ${f.message}`),
    ].join('\n'));
  return `${sections.join('\n\n')}\n`;
}

/** The report as JSON, stable in shape for scripts. */
export function renderReportJson(report: VerifyReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
