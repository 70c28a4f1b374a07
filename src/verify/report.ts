// Judging what an Envoy's TLS counters and certificates say, following the App Mesh documents:
// an mTLS listener must only complete handshakes with clients that presented a certificate, and
// no peer certificate may fail verification. With --strict, TLS errors of any kind and
// connections that never did TLS on a TLS listener count too.
import type { CertificateInfo } from './certs';
import { isTlsPosture, type TlsConfig } from './config-dump';
import { failedVerifications, judgeListener } from './listener-findings';
import type { TlsStats } from './stats';
import type { ClusterReport, Finding, ListenerReport, PostureSource, VerifyPolicy, VerifyReport } from './types';

export type { ClusterReport, Finding, ListenerReport, PostureSource, VerifyPolicy, VerifyReport } from './types';

const DAY_MS = 86_400_000;

function judgeCluster(cluster: ClusterReport, policy: Required<VerifyPolicy>, findings: Finding[]): void {
  const subject = `cluster ${cluster.name}`;
  const failures = failedVerifications(cluster.tls);
  if (failures.length > 0) {
    findings.push({ level: 'fail', subject, message: `server certificates failed verification (${failures.join(', ')})` });
  }
  const errors = cluster.tls.connection_error ?? 0;
  if (errors > 0) {
    findings.push({ level: policy.strict ? 'fail' : 'warn', subject, message: `${errors} TLS handshakes or connections failed (ssl.connection_error)` });
  }
}

/** A lifetime in hours below two days (a 24 h leaf is "24 hours", not "1 days"), else in days. */
function formatLifetime(ms: number): string {
  return ms < 2 * DAY_MS ? `${Math.round(ms / 3_600_000)} hours` : `${Math.floor(ms / DAY_MS)} days`;
}

function formatRemaining(ms: number): string {
  if (ms >= DAY_MS) return `${Math.floor(ms / DAY_MS)} days`;
  return `${Math.max(0, Math.floor(ms / 3_600_000))} hours`;
}

/**
 * A certificate expiring within the threshold is a finding. It fails, unless its whole lifetime is
 * shorter than the threshold: such a certificate could never meet it, even fresh; it is
 * short-lived and rotated, so it fails only once less than a quarter of its lifetime is left
 * (rotation should have happened by then), and until then a note says why it passes.
 */
function judgeCertificate(cert: CertificateInfo, policy: Required<VerifyPolicy>, findings: Finding[]): void {
  const subject = `certificate ${cert.serial || '(no serial)'} (${cert.role === 'ca' ? 'trust' : 'chain'}${cert.path ? `, ${cert.path}` : ''})`;
  if (cert.remainingMs <= 0) {
    findings.push({ level: 'fail', subject, message: `expired${cert.expiresAt ? ` at ${cert.expiresAt}` : ''}` });
    return;
  }
  const thresholdMs = policy.expiryDays * DAY_MS;
  const shortLived = cert.lifetimeMs !== undefined && cert.lifetimeMs <= thresholdMs;
  const limitMs = shortLived ? cert.lifetimeMs! / 4 : thresholdMs;
  if (cert.remainingMs <= limitMs) {
    const why = shortLived ? 'less than a quarter of its lifetime left (rotation overdue?)' : `within the ${policy.expiryDays}-day threshold`;
    findings.push({ level: 'fail', subject, message: `expires in ${formatRemaining(cert.remainingMs)}, ${why}` });
  } else if (cert.remainingMs <= thresholdMs) {
    findings.push({
      level: 'note', subject,
      message: `expires in ${formatRemaining(cert.remainingMs)}, within the ${policy.expiryDays}-day threshold; short-lived (lifetime ${formatLifetime(cert.lifetimeMs!)}), so it fails only with less than a quarter of its lifetime left`,
    });
  }
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Listener rows: every listener with statistics or configuration, joined by stat prefix. */
function listenerRows(stats: TlsStats, config: TlsConfig | undefined): ListenerReport[] {
  const configured = new Map((config?.listeners ?? []).map((l) => [l.statName, l]));
  const names = new Set([...stats.listeners.map((l) => l.name), ...configured.keys()]);
  return [...names].map((name): ListenerReport => {
    const listener = stats.listeners.find((l) => l.name === name) ?? { name, tls: null };
    const found = configured.get(name);
    const row: ListenerReport = { ...listener, posture: found?.posture ?? 'unknown' };
    if (found) {
      if (found.name) row.listenerName = found.name;
      if (found.port !== undefined) row.port = found.port;
      Object.assign(row, { tlsChains: found.tlsChains, mutualChains: found.mutualChains, plaintextChains: found.plaintextChains });
    }
    if (listener.tls && listener.connectionsTotal !== undefined) {
      const accounted = (listener.tls.handshake ?? 0) + (listener.tls.connection_error ?? 0);
      row.connectionsWithoutTls = Math.max(0, listener.connectionsTotal - accounted);
    }
    return row;
  }).sort(byName);
}

/** Cluster rows: clusters with TLS statistics, and clusters configured with TLS that have none yet. */
function clusterRows(stats: TlsStats, config: TlsConfig | undefined): ClusterReport[] {
  const configured = new Map((config?.clusters ?? []).map((c) => [c.statName, c]));
  const rows: ClusterReport[] = stats.clusters.map((c) => ({ ...c, posture: configured.get(c.name)?.posture ?? 'unknown' }));
  for (const c of configured.values()) {
    if (isTlsPosture(c.posture) && !rows.some((row) => row.name === c.statName)) rows.push({ name: c.statName, tls: {}, posture: c.posture });
  }
  return rows.sort(byName);
}

/**
 * Builds the per-listener, per-cluster and per-certificate report and its findings. `posture` is
 * what /config_dump said; without it (or when it could not be read) listeners are judged by the
 * /stats heuristics and the report says so.
 */
export function buildReport(
  adminUrl: string,
  stats: TlsStats,
  certificates: CertificateInfo[],
  policy: VerifyPolicy,
  posture: PostureSource = { unavailable: '/config_dump was not read' },
): VerifyReport {
  const fullPolicy: Required<VerifyPolicy> = { ingressPort: 15000, ...policy };
  const config = 'config' in posture ? posture.config : undefined;
  const findings: Finding[] = [];
  const listeners = listenerRows(stats, config);
  const clusters = clusterRows(stats, config);
  for (const listener of listeners) judgeListener(listener, fullPolicy, findings);
  for (const cluster of clusters) judgeCluster(cluster, fullPolicy, findings);
  for (const cert of certificates) judgeCertificate(cert, fullPolicy, findings);
  const listenerTls = (l: ListenerReport): boolean => (l.posture === 'unknown' ? l.tls !== null : isTlsPosture(l.posture));
  const clusterTls = (c: ClusterReport): boolean => c.posture === 'unknown' || isTlsPosture(c.posture);
  if ('unavailable' in posture && fullPolicy.strict) {
    // Without the configuration a listener's posture is a guess from its counters: --strict
    // must not report OK on a guess. (Without --strict the report's header says so.)
    findings.push({ level: 'fail', subject: 'envoy', message: `TLS posture unknown: /config_dump could not be read (${posture.unavailable}); --strict cannot vouch for a configuration it has not seen` });
  }
  if (!listeners.some(listenerTls) && !clusters.some(clusterTls)) {
    const what = config ? 'no listener or cluster is configured with TLS' : 'no listener or cluster has TLS statistics';
    findings.push({ level: fullPolicy.strict ? 'fail' : 'warn', subject: 'envoy', message: `${what}: nothing here is encrypted` });
  }
  const report: VerifyReport = {
    adminUrl, policy: fullPolicy, postureSource: config ? 'config_dump' : 'stats', listeners, clusters, certificates, findings,
    ok: findings.every((f) => f.level !== 'fail'),
  };
  if ('unavailable' in posture) report.postureFallbackReason = posture.unavailable;
  return report;
}
