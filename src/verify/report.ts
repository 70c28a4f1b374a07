// Judging what an Envoy's TLS counters and certificates say, following the App Mesh documents:
// an mTLS listener must only complete handshakes with clients that presented a certificate, and
// no peer certificate may fail verification. With --strict, TLS errors of any kind and
// connections that never did TLS on a TLS listener count too.
import type { CertificateInfo } from './certs';
import type { ClusterStats, ListenerStats, TlsCounters, TlsStats } from './stats';

const DAY_MS = 86_400_000;

export interface VerifyPolicy {
  /** Also fail on ssl.connection_error and on evidence of plaintext connections. */
  strict: boolean;
  /** A certificate expiring within this many days is a failure. */
  expiryDays: number;
  /** App Mesh's ingress port; the listener `<addr>_<port>` must be TLS under --strict. Default 15000. */
  ingressPort?: number;
}

export interface Finding {
  /** `fail` makes verify exit 1; `warn` is shown only. */
  level: 'fail' | 'warn';
  /** What it is about, e.g. `listener 0.0.0.0_15000` or `certificate 5c1f...`. */
  subject: string;
  message: string;
}

/** A listener row: its counters plus connections that did no TLS on a TLS listener. */
export interface ListenerReport extends ListenerStats {
  /** downstream_cx_total minus handshakes and TLS errors, on a TLS listener; absent otherwise. */
  connectionsWithoutTls?: number;
}

export interface VerifyReport {
  adminUrl: string;
  policy: Required<VerifyPolicy>;
  listeners: ListenerReport[];
  clusters: ClusterStats[];
  certificates: CertificateInfo[];
  findings: Finding[];
  /** True when no finding is a failure. */
  ok: boolean;
}

function failedVerifications(tls: TlsCounters): string[] {
  return (['fail_verify_no_cert', 'fail_verify_san', 'fail_verify_error', 'fail_verify_cert_hash'] as const)
    .filter((counter) => (tls[counter] ?? 0) > 0)
    .map((counter) => `ssl.${counter}: ${tls[counter]}`);
}

function judgeListener(listener: ListenerReport, policy: Required<VerifyPolicy>, findings: Finding[]): void {
  const subject = `listener ${listener.name}`;
  const tls = listener.tls;
  if (!tls) {
    // The egress listener takes plaintext from the local application by design; only the
    // ingress listener must never see it.
    if (policy.strict && listener.name.endsWith(`_${policy.ingressPort}`) && (listener.connectionsTotal ?? 0) > 0) {
      findings.push({ level: 'fail', subject, message: `ingress listener has no TLS and accepted ${listener.connectionsTotal} plaintext connections` });
    }
    return;
  }
  const handshakes = tls.handshake ?? 0;
  const noCertificate = tls.no_certificate ?? 0;
  if (handshakes > 0 && noCertificate > 0) {
    findings.push({
      level: 'fail', subject,
      message: noCertificate >= handshakes
        ? `none of ${handshakes} TLS connections presented a client certificate (ssl.no_certificate: ${noCertificate}): TLS, but not mutual TLS`
        : `${noCertificate} of ${handshakes} TLS connections were accepted without a client certificate (ssl.no_certificate)`,
    });
  }
  const failures = failedVerifications(tls);
  if (failures.length > 0) {
    findings.push({ level: 'fail', subject, message: `client certificates failed verification (${failures.join(', ')})` });
  }
  const errors = tls.connection_error ?? 0;
  if (errors > 0) {
    findings.push({ level: policy.strict ? 'fail' : 'warn', subject, message: `${errors} TLS handshakes or connections failed (ssl.connection_error)` });
  }
  if ((listener.connectionsWithoutTls ?? 0) > 0) {
    findings.push({
      level: policy.strict ? 'fail' : 'warn', subject,
      message: `${listener.connectionsWithoutTls} of ${listener.connectionsTotal} connections show neither a TLS handshake nor a TLS error: plaintext accepted (PERMISSIVE?)`,
    });
  }
  if (policy.strict && (listener.noFilterChainMatch ?? 0) > 0) {
    findings.push({ level: 'warn', subject, message: `${listener.noFilterChainMatch} connections matched no filter chain and were refused (plaintext clients?)` });
  }
}

function judgeCluster(cluster: ClusterStats, policy: Required<VerifyPolicy>, findings: Finding[]): void {
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

function formatRemaining(ms: number): string {
  if (ms >= DAY_MS) return `${Math.floor(ms / DAY_MS)} days`;
  return `${Math.max(0, Math.floor(ms / 3_600_000))} hours`;
}

/**
 * A certificate fails when it expires within the threshold. One whose whole lifetime is shorter
 * than the threshold could never meet it, even fresh: it is short-lived and rotated, so it fails
 * only once less than a quarter of its lifetime is left (rotation should have happened by then).
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
  }
}

/** Builds the per-listener, per-cluster and per-certificate report and its findings. */
export function buildReport(adminUrl: string, stats: TlsStats, certificates: CertificateInfo[], policy: VerifyPolicy): VerifyReport {
  const fullPolicy: Required<VerifyPolicy> = { ingressPort: 15000, ...policy };
  const findings: Finding[] = [];
  const listeners: ListenerReport[] = stats.listeners.map((listener) => {
    const row: ListenerReport = { ...listener };
    if (listener.tls && listener.connectionsTotal !== undefined) {
      const accounted = (listener.tls.handshake ?? 0) + (listener.tls.connection_error ?? 0);
      row.connectionsWithoutTls = Math.max(0, listener.connectionsTotal - accounted);
    }
    return row;
  });
  for (const listener of listeners) judgeListener(listener, fullPolicy, findings);
  for (const cluster of stats.clusters) judgeCluster(cluster, fullPolicy, findings);
  for (const cert of certificates) judgeCertificate(cert, fullPolicy, findings);
  const anyTls = listeners.some((l) => l.tls) || stats.clusters.length > 0;
  if (!anyTls) {
    findings.push({ level: fullPolicy.strict ? 'fail' : 'warn', subject: 'envoy', message: 'no listener or cluster has TLS statistics: nothing here is encrypted' });
  }
  return {
    adminUrl, policy: fullPolicy, listeners, clusters: stats.clusters, certificates, findings,
    ok: findings.every((f) => f.level !== 'fail'),
  };
}
