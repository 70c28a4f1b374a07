import { strict as assert } from 'node:assert';
import { parseConfigDump } from '../../src/verify/config-dump';
import { fixture } from './fixtures';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';
const DYNAMIC_LISTENER = 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener';

/** A per-resource listeners dump holding the given Listener messages. */
function listenersDump(...listeners: object[]): string {
  return JSON.stringify({ configs: listeners.map((listener) => ({ '@type': DYNAMIC_LISTENER, active_state: { listener } })) });
}

function downstreamTls(requireClientCertificate?: unknown): object {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': `${TLS}DownstreamTlsContext`, common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'leaf' }] },
      ...(requireClientCertificate === undefined ? {} : { require_client_certificate: requireClientCertificate }),
    },
  };
}

describe('verify/config-dump', () => {
  it('reads the whole dump of a gateway: a one-way TLS listener and a mutual-TLS cluster', () => {
    const { listeners, clusters } = parseConfigDump(fixture('gateway.config_dump.json'));
    assert.deepEqual(listeners, [{
      name: 'lds_ingress_0.0.0.0_15000', statName: '0.0.0.0_15000', port: 15000, posture: 'one-way-tls', tlsChains: 1, mutualChains: 0, plaintextChains: 0,
    }]);
    assert.deepEqual(clusters.map((c) => [c.statName, c.posture]), [
      ['cds_egress_colorapp_front_http_8080', 'mutual-tls'],
      ['meshd_sds', 'plaintext'],
      ['meshd_xds', 'plaintext'],
    ]);
  });

  it('reads per-resource dumps of a STRICT mTLS sidecar, listeners and clusters together', () => {
    const { listeners, clusters } = parseConfigDump(fixture('sidecar-strict.listeners.json'), fixture('sidecar-strict.clusters.json'));
    assert.deepEqual(listeners.map((l) => [l.statName, l.posture, l.tlsChains, l.mutualChains, l.plaintextChains]), [
      ['0.0.0.0_15000', 'mutual-tls', 1, 1, 0],
      ['0.0.0.0_15001', 'plaintext', 0, 0, 1],
    ]);
    assert.deepEqual(clusters.map((c) => [c.statName, c.posture]), [
      ['cds_egress_colorapp_color-blue_http_8080', 'mutual-tls'],
      ['cds_egress_colorapp_color-red_http_8080', 'mutual-tls'],
      ['cds_ingress_colorapp_front_http_8080', 'plaintext'],
    ]);
  });

  it('tells a PERMISSIVE listener by its TLS chain beside a plaintext chain', () => {
    const { listeners } = parseConfigDump(fixture('permissive.config_dump.json'));
    assert.deepEqual(listeners.map((l) => [l.statName, l.posture, l.tlsChains, l.mutualChains, l.plaintextChains]), [
      ['0.0.0.0_15000', 'permissive', 1, 1, 1],
      ['0.0.0.0_15001', 'plaintext', 0, 0, 1],
    ]);
  });

  it('names a listener without stat_prefix as Envoy counts it, and reads BoolValue and camelCase forms', () => {
    const { listeners } = parseConfigDump(listenersDump(
      { name: 'v6', address: { socket_address: { address: '::', port_value: 15000 } }, filter_chains: [{ transport_socket: downstreamTls({ value: true }) }] },
      { name: 'v4', address: { socketAddress: { address: '10.0.0.1', portValue: 9080 } }, filterChains: [{ transportSocket: downstreamTls(false) }] },
    ));
    assert.deepEqual(listeners.map((l) => [l.name, l.statName, l.posture]), [['v4', '10.0.0.1_9080', 'one-way-tls'], ['v6', '[__]_15000', 'mutual-tls']]);
  });

  it('counts the default filter chain, and calls a listener one-way TLS unless every TLS chain requires a certificate', () => {
    const { listeners } = parseConfigDump(listenersDump({
      name: 'mixed', stat_prefix: 'mixed',
      filter_chains: [{ filter_chain_match: { destination_port: 8080 }, transport_socket: downstreamTls(true) }],
      default_filter_chain: { transport_socket: downstreamTls() },
    }));
    assert.deepEqual(listeners[0], { name: 'mixed', statName: 'mixed', posture: 'one-way-tls', tlsChains: 2, mutualChains: 1, plaintextChains: 0 });
  });

  it('leaves the posture unknown for a transport socket that is neither TLS nor raw buffer, and skips listeners not yet active', () => {
    const alts = { name: 'envoy.transport_sockets.alts', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts' } };
    const raw = { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' } };
    const text = JSON.stringify({ configs: [
      { '@type': DYNAMIC_LISTENER, active_state: { listener: { name: 'a', stat_prefix: 'a', filter_chains: [{ transport_socket: alts }] } } },
      { '@type': DYNAMIC_LISTENER, active_state: { listener: { name: 'r', stat_prefix: 'r', filter_chains: [{ transport_socket: raw }] } } },
      { '@type': DYNAMIC_LISTENER, name: 'w', warming_state: { listener: { name: 'w', stat_prefix: 'w', filter_chains: [{ transport_socket: downstreamTls(true) }] } } },
    ] });
    assert.deepEqual(parseConfigDump(text).listeners.map((l) => [l.name, l.posture]), [['a', 'unknown'], ['r', 'plaintext']]);
  });

  it('names the cluster statistics by alt_stat_name and tells one-way from mutual TLS origination', () => {
    const cluster = (name: string, common: object, extra: object = {}) => ({
      '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster',
      cluster: { name, ...extra, transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': `${TLS}UpstreamTlsContext`, common_tls_context: common } } },
    });
    const text = JSON.stringify({ configs: [
      cluster('files', { tls_certificates: [{ certificate_chain: { filename: '/c.pem' } }] }, { alt_stat_name: 'files_alt' }),
      cluster('server-only', { validation_context: { trusted_ca: { filename: '/ca.pem' } } }),
    ] });
    assert.deepEqual(parseConfigDump(text).clusters, [
      { name: 'files', statName: 'files_alt', posture: 'mutual-tls' },
      { name: 'server-only', statName: 'server-only', posture: 'one-way-tls' },
    ]);
  });

  it('refuses output that is not a config dump, naming the place', () => {
    assert.throws(() => parseConfigDump('<html>'), /not JSON/);
    assert.throws(() => parseConfigDump('{"certificates": []}'), /expected an object with "configs"/);
    assert.throws(() => parseConfigDump('{"configs": [7]}'), /configs\[0\]: expected an object/);
    assert.throws(
      () => parseConfigDump('{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "dynamic_listeners": {}}]}'),
      /configs\[0\]\.dynamic_listeners: expected an array/,
    );
  });
});
