import { strict as assert } from 'node:assert';
import { parseCertsJson } from '../../src/verify/certs';
import { parseConfigDump } from '../../src/verify/config-dump';
import { alignTable, renderReportJson, renderReportTable } from '../../src/verify/render';
import { buildReport } from '../../src/verify/report';
import { collectTlsStats, parseStatsText } from '../../src/verify/stats';
import { CAPTURED_AT, fixture } from './fixtures';

function report(statsFile: string, certsFile: string) {
  const stats = collectTlsStats(parseStatsText(fixture(statsFile)));
  return buildReport('http://127.0.0.1:9901', stats, parseCertsJson(fixture(certsFile), CAPTURED_AT), { strict: false, expiryDays: 7 });
}

describe('verify/render', () => {
  it('aligns every column on the widest cell', () => {
    const lines = alignTable(['NAME', 'N'], [['a', '1'], ['longer-name', '22']]).split('\n');
    assert.deepEqual(lines, ['NAME         N', 'a            1', 'longer-name  22']);
  });

  it('prints listeners, clusters, certificates and findings as aligned tables', () => {
    const text = renderReportTable(report('no-certificate.stats.txt', 'expiring.certs.json'));
    const lines = text.split('\n');
    const header = lines.find((l) => l.startsWith('LISTENER'))!;
    const ingress = lines.find((l) => l.startsWith('0.0.0.0_15000'))!;
    // The ssl.no_certificate column holds 4 for the ingress listener, right under its header.
    const column = header.indexOf('ssl.no_certificate');
    assert.ok(column > 0);
    assert.equal(ingress.slice(column).split(/\s+/)[0], '4');
    assert.match(text, /^cds_egress_colorapp_color-blue_http_8080\s+unknown\s+5\s+0/m);
    assert.match(text, /^chain\s+2f9e8d7c6b5a4938\s+3d\s+2026-03-14T00:00:00Z\s+1\s+\/etc\/envoy\/certs\/front-chain\.pem\s+DNS:front\.colorapp\.local, IP:10\.0\.3\.17$/m);
    assert.match(text, /^FAILED: 2 failure\(s\), 0 warning\(s\)$/m);
    assert.match(text, /^ {2}FAIL {2}listener 0\.0\.0\.0_15000: 4 of 20 TLS connections/m);
  });

  it('shows each listener\'s and cluster\'s posture from /config_dump, and notes as NOTE', () => {
    const stats = collectTlsStats(parseStatsText(fixture('gateway.stats.txt')));
    const built = buildReport('http://127.0.0.1:9901', stats, parseCertsJson(fixture('gateway.certs.json'), CAPTURED_AT), { strict: true, expiryDays: 7 }, {
      config: parseConfigDump(fixture('gateway.config_dump.json')),
    });
    const text = renderReportTable(built);
    assert.match(text, /^TLS posture: from \/config_dump$/m);
    assert.match(text, /^LISTENER\s+POSTURE\s+TLS\s+ssl\.handshake/m);
    assert.match(text, /^0\.0\.0\.0_15000\s+one-way-tls\s+yes\s+40\s+40\s/m);
    assert.match(text, /^cds_egress_colorapp_front_http_8080\s+mutual-tls\s+5\s+0/m);
    assert.match(text, /^OK: 0 failure\(s\), 0 warning\(s\), 1 note\(s\)\n {2}NOTE {2}listener 0\.0\.0\.0_15000: one-way TLS/m);
    assert.equal(JSON.parse(renderReportJson(built)).listeners[0].posture, 'one-way-tls');
  });

  it('says when postures are unknown because /config_dump was not used, and why', () => {
    const text = renderReportTable(report('healthy-strict.stats.txt', 'healthy.certs.json'));
    assert.match(text, /^TLS posture: unknown, \/config_dump not used \(\/config_dump was not read\); listeners judged by \/stats heuristics/m);
    assert.match(text, /^0\.0\.0\.0_15000\s+unknown\s+yes\s+12\s/m);
  });

  it('says OK when there is nothing to report', () => {
    assert.match(renderReportTable(report('healthy-strict.stats.txt', 'healthy.certs.json')), /\nOK: no findings\.\n$/);
  });

  it('prints the same report as JSON', () => {
    const built = report('fail-verify-san.stats.txt', 'healthy.certs.json');
    assert.deepEqual(JSON.parse(renderReportJson(built)), JSON.parse(JSON.stringify(built)));
  });
});
