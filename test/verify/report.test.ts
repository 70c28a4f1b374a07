import { strict as assert } from 'node:assert';
import { parseCertsJson } from '../../src/verify/certs';
import { parseConfigDump } from '../../src/verify/config-dump';
import { buildReport, type Finding, type VerifyPolicy, type VerifyReport } from '../../src/verify/report';
import { collectTlsStats, parseStatsText } from '../../src/verify/stats';
import { CAPTURED_AT, fixture } from './fixtures';

const ADMIN = 'http://127.0.0.1:9901';
const lenient: VerifyPolicy = { strict: false, expiryDays: 7 };
const strict: VerifyPolicy = { strict: true, expiryDays: 7 };

function reportOf(statsFile: string, policy: VerifyPolicy, certsFile = 'healthy.certs.json') {
  const stats = collectTlsStats(parseStatsText(fixture(statsFile)));
  return buildReport(ADMIN, stats, parseCertsJson(fixture(certsFile), CAPTURED_AT), policy);
}

/** A report whose postures come from the given /config_dump fixture files. */
function reportWithConfig(statsFile: string, configFiles: string[], policy: VerifyPolicy, certsFile = 'healthy.certs.json') {
  const stats = collectTlsStats(parseStatsText(fixture(statsFile)));
  const config = parseConfigDump(...configFiles.map(fixture));
  return buildReport(ADMIN, stats, parseCertsJson(fixture(certsFile), CAPTURED_AT), policy, { config });
}

const SIDECAR = ['sidecar-strict.listeners.json', 'sidecar-strict.clusters.json'];

function reportOfText(stats: string, policy: VerifyPolicy) {
  return buildReport(ADMIN, collectTlsStats(parseStatsText(stats)), [], policy);
}

/** Without /config_dump, --strict always fails on the unknown posture; these are the other findings. */
function heuristic(report: VerifyReport): Finding[] {
  return report.findings.filter((f) => !f.message.startsWith('TLS posture unknown'));
}

describe('verify/report', () => {
  it('finds nothing wrong in the counters of a healthy STRICT mTLS sidecar, even under --strict', () => {
    for (const policy of [lenient, strict]) {
      const report = reportOf('healthy-strict.stats.txt', policy);
      assert.deepEqual(heuristic(report), []);
      assert.equal(report.listeners.find((l) => l.name === '0.0.0.0_15000')!.connectionsWithoutTls, 0);
    }
    assert.equal(reportOf('healthy-strict.stats.txt', lenient).ok, true);
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
    assert.equal(heuristic(reportOf('fail-verify-san.stats.txt', strict)).filter((f) => f.level === 'fail').length, 2);
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
    assert.deepEqual(heuristic(strictReport).map((f) => [f.level, f.message]), [
      ['fail', '1 TLS handshakes or connections failed (ssl.connection_error)'],
      ['fail', '5 of 15 connections show neither a TLS handshake nor a TLS error: plaintext accepted (PERMISSIVE?)'],
    ]);
  });

  it('under --strict, fails an ingress listener without TLS but not the egress listener', () => {
    const text = 'listener.0.0.0.0_15000.downstream_cx_total: 4\nlistener.0.0.0.0_15001.downstream_cx_total: 9\ncluster.x.ssl.handshake: 1\n';
    assert.equal(reportOfText(text, lenient).ok, true);
    const report = reportOfText(text, strict);
    assert.deepEqual(heuristic(report), [{ level: 'fail', subject: 'listener 0.0.0.0_15000', message: 'ingress listener has no TLS and accepted 4 plaintext connections' }]);
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
    // 12 h left of 24 h is fine, but inside the 7-day window: a note says why it does not fail.
    assert.deepEqual(judge(leaf, '2026-03-10T12:00:00Z'), [{
      level: 'note', subject: 'certificate aa (chain)',
      message: 'expires in 12 hours, within the 7-day threshold; short-lived (lifetime 24 hours), so it fails only with less than a quarter of its lifetime left',
    }]);
    assert.deepEqual(judge(leaf, '2026-03-10T20:00:00Z').map((f) => f.message), ['expires in 4 hours, less than a quarter of its lifetime left (rotation overdue?)']);
    assert.deepEqual(judge(leaf, '2026-03-11T01:00:00Z').map((f) => f.message), ['expired at 2026-03-11T00:00:00Z']);
  });

  describe('with postures from /config_dump', () => {
    it('passes a gateway whose listener is one-way TLS by design, even under --strict, with a note', () => {
      for (const policy of [lenient, strict]) {
        const report = reportWithConfig('gateway.stats.txt', ['gateway.config_dump.json'], policy, 'gateway.certs.json');
        assert.equal(report.ok, true);
        assert.equal(report.postureSource, 'config_dump');
        assert.equal(report.postureFallbackReason, undefined);
        assert.deepEqual(report.findings, [{
          level: 'note', subject: 'listener 0.0.0.0_15000',
          message: 'one-way TLS: no client certificate is required (TLS termination by design; ssl.no_certificate: 40)',
        }]);
        const listener = report.listeners[0]!;
        assert.equal(listener.posture, 'one-way-tls');
        assert.equal(listener.listenerName, 'lds_ingress_0.0.0.0_15000');
        assert.deepEqual(report.clusters.map((c) => [c.name, c.posture]), [['cds_egress_colorapp_front_http_8080', 'mutual-tls']]);
      }
    });

    it('finds nothing at all on a healthy STRICT mTLS sidecar, even under --strict', () => {
      for (const policy of [lenient, strict]) {
        const report = reportWithConfig('healthy-strict.stats.txt', SIDECAR, policy);
        assert.deepEqual(report.findings, []);
        assert.deepEqual(report.listeners.map((l) => [l.name, l.posture]), [['0.0.0.0_15000', 'mutual-tls'], ['0.0.0.0_15001', 'plaintext']]);
        assert.deepEqual(report.clusters.map((c) => [c.name, c.posture]), [
          ['cds_egress_colorapp_color-blue_http_8080', 'mutual-tls'], ['cds_egress_colorapp_color-red_http_8080', 'mutual-tls'],
        ]);
      }
    });

    it('fails a mutual-TLS listener that accepted connections without a client certificate', () => {
      const report = reportWithConfig('no-certificate.stats.txt', SIDECAR, lenient);
      assert.equal(report.ok, false);
      assert.deepEqual(report.findings, [{
        level: 'fail', subject: 'listener 0.0.0.0_15000',
        message: '4 of 20 TLS connections were accepted without a client certificate (ssl.no_certificate): every TLS filter chain requires one (require_client_certificate)',
      }]);
    });

    it('fails a mutual-TLS listener whose clients failed verification', () => {
      const stats = collectTlsStats(parseStatsText('listener.0.0.0.0_15000.ssl.handshake: 3\nlistener.0.0.0.0_15000.ssl.fail_verify_no_cert: 2\n'));
      const report = buildReport(ADMIN, stats, [], lenient, { config: parseConfigDump(...SIDECAR.map(fixture)) });
      assert.deepEqual(report.findings.map((f) => [f.level, f.message]), [['fail', 'client certificates failed verification (ssl.fail_verify_no_cert: 2)']]);
    });

    it('notes a PERMISSIVE listener seeing plaintext, and fails it only under --strict', () => {
      const lenientReport = reportWithConfig('permissive-plaintext.stats.txt', ['permissive.config_dump.json'], lenient);
      assert.equal(lenientReport.ok, true);
      assert.equal(lenientReport.listeners.find((l) => l.name === '0.0.0.0_15000')!.posture, 'permissive');
      assert.deepEqual(lenientReport.findings.map((f) => [f.level, f.message]), [
        ['warn', '1 TLS handshakes or connections failed (ssl.connection_error)'],
        ['note', 'PERMISSIVE: TLS and plaintext filter chains, plaintext allowed by design (5 of 15 connections were plaintext)'],
      ]);
      const strictReport = reportWithConfig('permissive-plaintext.stats.txt', ['permissive.config_dump.json'], strict);
      assert.equal(strictReport.ok, false);
      assert.deepEqual(heuristic(strictReport).map((f) => [f.level, f.message]), [
        ['fail', '1 TLS handshakes or connections failed (ssl.connection_error)'],
        ['fail', 'PERMISSIVE listener accepted 5 of 15 connections in plaintext'],
      ]);
    });

    it('passes a PERMISSIVE listener under --strict when it saw no plaintext', () => {
      const stats = collectTlsStats(parseStatsText('listener.0.0.0.0_15000.downstream_cx_total: 9\nlistener.0.0.0.0_15000.ssl.handshake: 9\nlistener.0.0.0.0_15001.downstream_cx_total: 2\n'));
      const report = buildReport(ADMIN, stats, [], strict, { config: parseConfigDump(fixture('permissive.config_dump.json')) });
      assert.equal(report.ok, true);
      assert.deepEqual(report.findings.map((f) => [f.level, f.message]), [['note', 'PERMISSIVE: TLS and plaintext filter chains, plaintext allowed by design (no plaintext connections seen)']]);
    });

    it('fails plaintext evidence on a TLS-only listener under --strict and warns otherwise', () => {
      const text = 'listener.0.0.0.0_15000.downstream_cx_total: 10\nlistener.0.0.0.0_15000.ssl.handshake: 7\n';
      const judge = (policy: VerifyPolicy) => buildReport(ADMIN, collectTlsStats(parseStatsText(text)), [], policy, { config: parseConfigDump(...SIDECAR.map(fixture)) }).findings;
      const message = '3 of 10 connections show neither a TLS handshake nor a TLS error on a TLS-only listener: plaintext evidence';
      assert.deepEqual(judge(lenient).map((f) => [f.level, f.message]), [['warn', message]]);
      assert.deepEqual(judge(strict).map((f) => [f.level, f.message]), [['fail', message]]);
    });

    it('knows a listener that has seen no traffic is mutual TLS', () => {
      const stats = collectTlsStats(parseStatsText('listener.0.0.0.0_15001.downstream_cx_total: 0\n'));
      const report = buildReport(ADMIN, stats, [], strict, { config: parseConfigDump(...SIDECAR.map(fixture)) });
      assert.equal(report.listeners.find((l) => l.name === '0.0.0.0_15000')!.posture, 'mutual-tls');
      assert.deepEqual(report.findings, []);
    });

    it('under --strict, fails an ingress listener configured without TLS that took connections, by its bound port', () => {
      const config = parseConfigDump(fixture('sidecar-strict.listeners.json'));
      const stats = collectTlsStats(parseStatsText('listener.0.0.0.0_15001.downstream_cx_total: 3\ncluster.x.ssl.handshake: 1\n'));
      assert.equal(buildReport(ADMIN, stats, [], strict, { config }).ok, true);
      assert.deepEqual(buildReport(ADMIN, stats, [], { ...strict, ingressPort: 15001 }, { config }).findings, [{
        level: 'fail', subject: 'listener 0.0.0.0_15001', message: 'ingress listener is configured without TLS and accepted 3 plaintext connections',
      }]);
    });

    it('judges a listener missing from /config_dump by the /stats heuristics', () => {
      const stats = collectTlsStats(parseStatsText('listener.static_in.ssl.handshake: 4\nlistener.static_in.ssl.no_certificate: 4\n'));
      const report = buildReport(ADMIN, stats, [], lenient, { config: parseConfigDump(...SIDECAR.map(fixture)) });
      assert.equal(report.listeners.find((l) => l.name === 'static_in')!.posture, 'unknown');
      assert.match(report.findings[0]!.message, /none of 4 TLS connections presented a client certificate.*not mutual TLS/);
    });
  });

  it('says when postures are unknown and listeners were judged by /stats heuristics', () => {
    const report = buildReport(ADMIN, collectTlsStats(parseStatsText(fixture('gateway.stats.txt'))), [], strict, { unavailable: 'GET http://x/config_dump: HTTP 404' });
    assert.equal(report.postureSource, 'stats');
    assert.equal(report.postureFallbackReason, 'GET http://x/config_dump: HTTP 404');
    assert.ok(report.listeners.every((l) => l.posture === 'unknown'));
    // Without the configuration the gateway's one-way TLS listener cannot be told from broken mTLS.
    assert.equal(report.ok, false);
  });

  it('fails under --strict when the TLS posture is unknown, and says so only in its header otherwise', () => {
    const unavailable = { unavailable: 'GET http://x/config_dump: HTTP 404' };
    const stats = collectTlsStats(parseStatsText(fixture('healthy-strict.stats.txt')));
    const strictReport = buildReport(ADMIN, stats, [], strict, unavailable);
    assert.equal(strictReport.ok, false);
    assert.deepEqual(strictReport.findings, [{
      level: 'fail', subject: 'envoy',
      message: 'TLS posture unknown: /config_dump could not be read (GET http://x/config_dump: HTTP 404); --strict cannot vouch for a configuration it has not seen',
    }]);
    const lenientReport = buildReport(ADMIN, stats, [], lenient, unavailable);
    assert.equal(lenientReport.ok, true);
    assert.deepEqual(lenientReport.findings, []);
    assert.equal(lenientReport.postureSource, 'stats', 'the report says where postures came from');
  });
});
