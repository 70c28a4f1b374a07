// Judging one listener. With its posture read from /config_dump the configuration says what the
// listener is meant to be, and the counters are held against that: a mutual-TLS listener must not
// accept a connection without a client certificate, a TLS-only listener must not show plaintext,
// while one-way TLS (TLS termination for clients outside the mesh) and PERMISSIVE (plaintext beside
// TLS during a migration) are legitimate designs and only noted. Without a posture the counters
// alone are read, as before /config_dump was consulted: any TLS listener is taken for mTLS.
import type { Finding, ListenerReport, VerifyPolicy } from './types';
import type { TlsCounters } from './stats';

/** The `ssl.fail_verify_*` counters above zero, as `ssl.<counter>: N`. */
export function failedVerifications(tls: TlsCounters): string[] {
  return (['fail_verify_no_cert', 'fail_verify_san', 'fail_verify_error', 'fail_verify_cert_hash'] as const)
    .filter((counter) => (tls[counter] ?? 0) > 0)
    .map((counter) => `ssl.${counter}: ${tls[counter]}`);
}

type Policy = Required<VerifyPolicy>;

function isIngress(listener: ListenerReport, policy: Policy): boolean {
  return listener.port !== undefined ? listener.port === policy.ingressPort : listener.name.endsWith(`_${policy.ingressPort}`);
}

function noCertificateMessage(handshakes: number, noCertificate: number, why: string): string {
  return noCertificate >= handshakes
    ? `none of ${handshakes} TLS connections presented a client certificate (ssl.no_certificate: ${noCertificate}): ${why}`
    : `${noCertificate} of ${handshakes} TLS connections were accepted without a client certificate (ssl.no_certificate)${why ? `: ${why}` : ''}`;
}

/** Verification failures and TLS errors, judged alike on every listener that does TLS. */
function judgeTlsErrors(listener: ListenerReport, tls: TlsCounters, policy: Policy, findings: Finding[]): void {
  const subject = `listener ${listener.name}`;
  const failures = failedVerifications(tls);
  if (failures.length > 0) {
    findings.push({ level: 'fail', subject, message: `client certificates failed verification (${failures.join(', ')})` });
  }
  const errors = tls.connection_error ?? 0;
  if (errors > 0) {
    findings.push({ level: policy.strict ? 'fail' : 'warn', subject, message: `${errors} TLS handshakes or connections failed (ssl.connection_error)` });
  }
}

function judgeByStats(listener: ListenerReport, policy: Policy, findings: Finding[]): void {
  const subject = `listener ${listener.name}`;
  const tls = listener.tls;
  if (!tls) {
    // The egress listener takes plaintext from the local application by design; only the
    // ingress listener must never see it.
    if (policy.strict && isIngress(listener, policy) && (listener.connectionsTotal ?? 0) > 0) {
      findings.push({ level: 'fail', subject, message: `ingress listener has no TLS and accepted ${listener.connectionsTotal} plaintext connections` });
    }
    return;
  }
  const handshakes = tls.handshake ?? 0;
  const noCertificate = tls.no_certificate ?? 0;
  if (handshakes > 0 && noCertificate > 0) {
    findings.push({ level: 'fail', subject, message: noCertificateMessage(handshakes, noCertificate, noCertificate >= handshakes ? 'TLS, but not mutual TLS' : '') });
  }
  judgeTlsErrors(listener, tls, policy, findings);
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

function judgeByConfig(listener: ListenerReport, policy: Policy, findings: Finding[]): void {
  const subject = `listener ${listener.name}`;
  const { posture } = listener;
  const tls = listener.tls ?? {};
  const handshakes = tls.handshake ?? 0;
  const noCertificate = tls.no_certificate ?? 0;
  const withoutTls = listener.connectionsWithoutTls ?? 0;
  if (posture === 'plaintext') {
    if (policy.strict && isIngress(listener, policy) && (listener.connectionsTotal ?? 0) > 0) {
      findings.push({ level: 'fail', subject, message: `ingress listener is configured without TLS and accepted ${listener.connectionsTotal} plaintext connections` });
    }
    return;
  }
  // Every TLS chain requires a client certificate (on a PERMISSIVE listener too): a TLS
  // connection without one means the configuration is not what Envoy enforced.
  const mutual = listener.tlsChains !== undefined && listener.tlsChains > 0 && listener.mutualChains === listener.tlsChains;
  if (mutual && handshakes > 0 && noCertificate > 0) {
    findings.push({ level: 'fail', subject, message: noCertificateMessage(handshakes, noCertificate, 'every TLS filter chain requires one (require_client_certificate)') });
  }
  judgeTlsErrors(listener, tls, policy, findings);
  if (posture === 'permissive') {
    const seen = withoutTls > 0 ? `${withoutTls} of ${listener.connectionsTotal} connections were plaintext` : 'no plaintext connections seen';
    findings.push(policy.strict && withoutTls > 0
      ? { level: 'fail', subject, message: `PERMISSIVE listener accepted ${withoutTls} of ${listener.connectionsTotal} connections in plaintext` }
      : { level: 'note', subject, message: `PERMISSIVE: TLS and plaintext filter chains, plaintext allowed by design (${seen})` });
    return;
  }
  // TLS only (STRICT): a connection that did neither a handshake nor a TLS error is plaintext.
  if (withoutTls > 0) {
    findings.push({
      level: policy.strict ? 'fail' : 'warn', subject,
      message: `${withoutTls} of ${listener.connectionsTotal} connections show neither a TLS handshake nor a TLS error on a TLS-only listener: plaintext evidence`,
    });
  }
  if (policy.strict && (listener.noFilterChainMatch ?? 0) > 0) {
    findings.push({ level: 'warn', subject, message: `${listener.noFilterChainMatch} connections matched no filter chain and were refused (plaintext clients?)` });
  }
  if (posture === 'one-way-tls') {
    const some = (listener.mutualChains ?? 0) > 0 ? `${listener.mutualChains} of ${listener.tlsChains} TLS filter chains require a client certificate` : 'no client certificate is required';
    findings.push({ level: 'note', subject, message: `one-way TLS: ${some} (TLS termination by design; ssl.no_certificate: ${noCertificate})` });
  }
}

/** Appends the findings about one listener. */
export function judgeListener(listener: ListenerReport, policy: Policy, findings: Finding[]): void {
  if (listener.posture === 'unknown') judgeByStats(listener, policy, findings);
  else judgeByConfig(listener, policy, findings);
}
