import { strict as assert } from 'node:assert';
import { collectTlsStats, parseStatsText } from '../../src/verify/stats';
import { fixture } from './fixtures';

const EGRESS = 'cds_egress_colorapp_color-blue_http_8080';

describe('verify/stats', () => {
  it('reads counters and gauges and skips histogram lines', () => {
    const stats = parseStatsText(fixture('healthy-strict.stats.txt'));
    assert.equal(stats.get('listener.0.0.0.0_15000.ssl.handshake'), 12);
    assert.equal(stats.get(`cluster.${EGRESS}.upstream_rq_2xx`), 24);
    assert.equal(stats.get('cluster_manager.cds.version'), 4471309261584553317);
    assert.equal(stats.has(`cluster.${EGRESS}.upstream_cx_connect_ms`), false);
    assert.equal(stats.has(`cluster.${EGRESS}.upstream_cx_length_ms`), false);
  });

  it('groups TLS counters of a healthy STRICT sidecar per listener and per TLS cluster', () => {
    const { listeners, clusters } = collectTlsStats(parseStatsText(fixture('healthy-strict.stats.txt')));
    assert.deepEqual(listeners.map((l) => l.name), ['0.0.0.0_15000', '0.0.0.0_15001']);
    assert.deepEqual(listeners[0], {
      name: '0.0.0.0_15000',
      tls: { connection_error: 0, fail_verify_cert_hash: 0, fail_verify_error: 0, fail_verify_no_cert: 0, fail_verify_san: 0, handshake: 12, no_certificate: 0 },
      connectionsActive: 2, connectionsTotal: 12, noFilterChainMatch: 0,
    });
    assert.equal(listeners[1]!.tls, null, 'the egress listener has no TLS');
    assert.deepEqual(clusters.map((c) => c.name), [EGRESS, 'cds_egress_colorapp_color-red_http_8080']);
    assert.equal(clusters[0]!.tls.handshake, 5);
  });

  it('counts fail_verify_san on the egress cluster that rejected the server', () => {
    const { clusters } = collectTlsStats(parseStatsText(fixture('fail-verify-san.stats.txt')));
    assert.deepEqual(clusters[0], {
      name: EGRESS,
      tls: { connection_error: 5, fail_verify_cert_hash: 0, fail_verify_error: 0, fail_verify_no_cert: 0, fail_verify_san: 5, handshake: 0, no_certificate: 0 },
    });
  });

  it('accepts the doubled ssl.ssl. form and names containing dots and "ssl"', () => {
    const text = [
      // As printed in the App Mesh TLS document.
      'listener.0.0.0.0_15000.ssl.connection_error: 0',
      'listener.0.0.0.0_15000.ssl.fail_verify_cert_hash: 0',
      'listener.0.0.0.0_15000.ssl.ssl.fail_verify_san: 2',
      'cluster.outbound|443||api.ssl.example.com.ssl.handshake: 7',
      'cluster.outbound|443||api.ssl.example.com.ssl.versions.TLSv1.2: 7',
      'server.version: "1.34.1"',
    ].join('\n');
    const { listeners, clusters } = collectTlsStats(parseStatsText(text));
    assert.deepEqual(listeners[0]!.tls, { connection_error: 0, fail_verify_cert_hash: 0, fail_verify_san: 2 });
    assert.deepEqual(clusters, [{ name: 'outbound|443||api.ssl.example.com', tls: { handshake: 7 } }]);
  });

  it('refuses output that holds no statistics', () => {
    assert.throws(() => parseStatsText('<html><body>envoy admin</body></html>\n'), /no "name: value" statistics found/);
  });
});
