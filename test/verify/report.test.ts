import { strict as assert } from 'node:assert';
import { parseCertsJson } from '../../src/verify/certs';
import { buildReport, type VerifyPolicy } from '../../src/verify/report';
import { collectTlsStats, parseStatsText } from '../../src/verify/stats';
import { CAPTURED_AT, fixture } from './fixtures';

const ADMIN = 'http://127.0.0.1:9901';
const lenient: VerifyPolicy = { strict: false, expiryDays: 7 };
const strict: VerifyPolicy = { strict: true, expiryDays: 7 };

function reportOf(statsFile: string, policy: VerifyPolicy, certsFile = 'healthy.certs.json') {
  const stats = collectTlsStats(parseStatsText(fixture(statsFile)));
  return buildReport(ADMIN, stats, parseCertsJson(fixture(certsFile), CAPTURED_AT), policy);
}

function reportOfText(stats: string, policy: VerifyPolicy) {
  return buildReport(ADMIN, collectTlsStats(parseStatsText(stats)), [], policy);
}

describe('verify/report', () => {
  it('finds nothing wrong with a healthy STRICT mTLS sidecar, even under --strict', () => {
    for (const policy of [lenient, strict]) {
      const report = reportOf('healthy-strict.stats.txt', policy);
      assert.deepEqual(report.findings, []);
      assert.equal(report.ok, true);
      assert.equal(report.listeners.find((l) => l.name === '0.0.0.0_15000')!.connectionsWithoutTls, 0);
    }
  });

  it('fails a listener that accepted connections without a client certificate', () => {
    const report = reportOf('no-certificate.stats.txt', lenient);
    assert.equal(report.ok, false);
    assert.deepEqual(report.findings, [{
      level: 'fail', subject: 'listener 0.0.0.0_15000',
      message: '4 of 20 TLS connections were accepted without a client certificate (ssl.no_certificate)',
    }]);
  });

  it('says a listener is not mutual TLS when no client ever presented a certificate', () => {
    const report = reportOfText('listener.0.0.0.0_15000.ssl.handshake: 6\nlistener.0.0.0.0_15000.ssl.no_certificate: 6\n', lenient);
    assert.match(report.findings[0]!.message, /none of 6 TLS connections presented a client certificate.*not mutual TLS/);
  });

  it('fails the egress cluster whose server certificate SAN did not match', () => {
    const report = reportOf('fail-verify-san.stats.txt', lenient);
    assert.equal(report.ok, false);
    const subject = 'cluster cds_egress_colorapp_color-blue_http_8080';
    assert.deepEqual(report.findings.filter((f) => f.subject === subject).map((f) => [f.level, f.message]), [
      ['fail', 'server certificates failed verification (ssl.fail_verify_san: 5)'],
      ['warn', '5 TLS handshakes or connections failed (ssl.connection_error)'],
    ]);
    assert.equal(reportOf('fail-verify-san.stats.txt', strict).findings.filter((f) => f.level === 'fail').length, 2);
  });

  it('fails listener verification failures such as a client without a certificate being refused', () => {
    const report = reportOfText('listener.0.0.0.0_15000.ssl.handshake: 3\nlistener.0.0.0.0_15000.ssl.fail_verify_no_cert: 2\nlistener.0.0.0.0_15000.ssl.ssl.fail_verify_san: 1\n', lenient);
    assert.deepEqual(report.findings.map((f) => f.message), ['client certificates failed verification (ssl.fail_verify_no_cert: 2, ssl.fail_verify_san: 1)']);
  });

  it('warns about plaintext on a TLS listener, and fails it under --strict', () => {
    const lenientReport = reportOf('permissive-plaintext.stats.txt', lenient);
    assert.equal(lenientReport.ok, true);
    const listener = lenientReport.listeners.find((l) => l.name === '0.0.0.0_15000')!;
    assert.equal(listener.connectionsWithoutTls, 5);
    assert.deepEqual(lenientReport.findings.map((f) => f.level), ['warn', 'warn']);
    const strictReport = reportOf('permissive-plaintext.stats.txt', strict);
    assert.equal(strictReport.ok, false);
    assert.deepEqual(strictReport.findings.map((f) => [f.level, f.message]), [
      ['fail', '1 TLS handshakes or connections failed (ssl.connection_error)'],
      ['fail', '5 of 15 connections show neither a TLS handshake nor a TLS error: plaintext accepted (PERMISSIVE?)'],
    ]);
  });

  it('under --strict, fails an ingress listener without TLS but not the egress listener', () => {
    const text = 'listener.0.0.0.0_15000.downstream_cx_total: 4\nlistener.0.0.0.0_15001.downstream_cx_total: 9\ncluster.x.ssl.handshake: 1\n';
    assert.equal(reportOfText(text, lenient).ok, true);
    const report = reportOfText(text, strict);
    assert.deepEqual(report.findings, [{ level: 'fail', subject: 'listener 0.0.0.0_15000', message: 'ingress listener has no TLS and accepted 4 plaintext connections' }]);
    assert.equal(reportOfText(text.replace(/15000/g, '16000'), { ...strict, ingressPort: 16000 }).ok, false);
  });

  it('notes an Envoy without any TLS, failing only under --strict', () => {
    const text = 'listener.0.0.0.0_15001.downstream_cx_total: 9\n';
    assert.equal(reportOfText(text, lenient).findings[0]!.level, 'warn');
    assert.equal(reportOfText(text, strict).ok, false);
  });

  it('fails a certificate expiring within the threshold and not one outside it', () => {
    const report = reportOf('healthy-strict.stats.txt', lenient, 'expiring.certs.json');
    assert.deepEqual(report.findings, [{
      level: 'fail', subject: 'certificate 2f9e8d7c6b5a4938 (chain, /etc/envoy/certs/front-chain.pem)',
      message: 'expires in 3 days, within the 7-day threshold',
    }]);
    assert.equal(reportOf('healthy-strict.stats.txt', { strict: false, expiryDays: 3 }, 'expiring.certs.json').ok, true);
    assert.equal(reportOf('healthy-strict.stats.txt', { strict: false, expiryDays: 81 }).ok, false);
  });

  it('judges a short-lived certificate against a quarter of its lifetime, and always fails an expired one', () => {
    const day = (validFrom: string, expires: string) => JSON.stringify({ certificates: [{ cert_chain: [{ serial_number: 'aa', valid_from: validFrom, expiration_time: expires }] }] });
    const stats = collectTlsStats(parseStatsText('cluster.x.ssl.handshake: 1\n'));
    const judge = (certs: string, at: string) => buildReport(ADMIN, stats, parseCertsJson(certs, new Date(at)), lenient).findings;
    const leaf = day('2026-03-10T00:00:00Z', '2026-03-11T00:00:00Z');
    assert.deepEqual(judge(leaf, '2026-03-10T12:00:00Z'), [], '12 h left of 24 h is fine');
    assert.deepEqual(judge(leaf, '2026-03-10T20:00:00Z').map((f) => f.message), ['expires in 4 hours, less than a quarter of its lifetime left (rotation overdue?)']);
    assert.deepEqual(judge(leaf, '2026-03-11T01:00:00Z').map((f) => f.message), ['expired at 2026-03-11T00:00:00Z']);
  });
});
