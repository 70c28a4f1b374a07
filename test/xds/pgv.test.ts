import { strict as assert } from 'node:assert';
import * as protobuf from 'protobufjs';
import { formatPgvViolations, validateMessage, validateResource, type PgvViolation } from '../../src/xds/pgv';
import { envoyRoot } from '../../src/xds/protos';
import { HCM_PATH, type Plain, TYPE, VALID_RESOURCES, certificateSecret, edsCluster, loadAssignment, tlsListener, weightedRoutes } from './pgv/envoy-fixtures';
import { RULE_CASES, loadRulesRoot } from './pgv/rules-proto';

const Long = protobuf.util.Long as unknown as { fromNumber(value: number, unsigned: boolean): protobuf.Long };

function typeOf(typeUrl: string, root: protobuf.Root = envoyRoot()): protobuf.Type {
  return root.lookupType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
}

/** Walks plain objects/arrays by property names and indexes, for breaking one field of a fixture. */
function at(value: Plain, ...keys: (string | number)[]): Plain {
  let node: unknown = value;
  for (const key of keys) node = (node as Record<string | number, unknown>)[key];
  return node as Plain;
}

function encode(type: protobuf.Type, value: Plain): Uint8Array {
  return type.encode(type.fromObject(value)).finish();
}

const v = (path: string, message: string): PgvViolation => ({ path, message });
const TLS = 'typed_config<envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext>';
const UPSTREAM_TLS = 'transport_socket.typed_config<envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext>';
const ROUTE = 'virtual_hosts[0].routes[0]';

interface EnvoyCase {
  name: string;
  typeUrl: string;
  build: () => Plain;
  expected: PgvViolation[];
  /** The defect cannot survive fromObject+encode, so only the plain form is checked. */
  plainOnly?: boolean;
}

const ENVOY_CASES: readonly EnvoyCase[] = [
  { name: 'empty cluster name', typeUrl: TYPE.cluster, build: () => ({ ...edsCluster(), name: '' }), expected: [v('name', 'value length must be at least 1 characters')] },
  { name: 'cluster lb_policy out of range', typeUrl: TYPE.cluster, build: () => ({ ...edsCluster(), lbPolicy: 42 }), expected: [v('lb_policy', 'value must be one of the defined enum values')] },
  { name: 'cluster lb_policy unknown name', typeUrl: TYPE.cluster, build: () => ({ ...edsCluster(), lbPolicy: 'FASTEST' }), expected: [v('lb_policy', 'unknown LbPolicy value "FASTEST"')], plainOnly: true },
  { name: 'zero connect_timeout', typeUrl: TYPE.cluster, build: () => ({ ...edsCluster(), connectTimeout: {} }), expected: [v('connect_timeout', 'value must be greater than 0s')] },
  { name: 'negative connect_timeout', typeUrl: TYPE.cluster, build: () => ({ ...edsCluster(), connectTimeout: { seconds: -1, nanos: -500_000_000 } }), expected: [v('connect_timeout', 'value must be greater than 0s')] },
  {
    name: 'empty SDS secret name inside the upstream TLS Any', typeUrl: TYPE.cluster,
    build: () => { const c = edsCluster(); at(c, 'transportSocket', 'typedConfig', 'commonTlsContext', 'tlsCertificateSdsSecretConfigs', 0).name = ''; return c; },
    expected: [v(`${UPSTREAM_TLS}.common_tls_context.tls_certificate_sds_secret_configs[0].name`, 'value length must be at least 1 characters')],
  },
  {
    name: 'uint64 wrapper holding a Long', typeUrl: TYPE.cluster,
    build: () => ({ ...edsCluster(), lbPolicy: 'RING_HASH', ringHashLbConfig: { minimumRingSize: { value: Long.fromNumber(8388609, true) } } }),
    expected: [v('ring_hash_lb_config.minimum_ring_size', 'value must be less than or equal to 8388608')],
  },
  {
    name: 'double wrapper range', typeUrl: TYPE.cluster, build: () => ({ ...edsCluster(), preconnectPolicy: { perUpstreamPreconnectRatio: { value: 5 } } }),
    expected: [v('preconnect_policy.per_upstream_preconnect_ratio', 'value must be inside range [1, 3]')],
  },
  {
    name: 'metadata map key', typeUrl: TYPE.cluster, build: () => ({ ...edsCluster(), metadata: { filterMetadata: { '': {} } } }),
    expected: [v('metadata.filter_metadata[""]', 'map key: value length must be at least 1 characters')],
  },
  {
    name: 'every violation of a resource is reported', typeUrl: TYPE.cluster,
    build: () => ({ ...edsCluster(), name: '', lbPolicy: 42, connectTimeout: {}, loadAssignment: { ...loadAssignment(), clusterName: '' } }),
    expected: [
      v('name', 'value length must be at least 1 characters'),
      v('connect_timeout', 'value must be greater than 0s'),
      v('lb_policy', 'value must be one of the defined enum values'),
      v('load_assignment.cluster_name', 'value length must be at least 1 characters'),
    ],
  },
  // Envoy's v3 Listener.address carries no PGV rule (it is required by Envoy's own code unless an
  // API listener or internal listener is configured), so only an empty Address is a PGV error.
  { name: 'listener without address (no PGV rule)', typeUrl: TYPE.listener, build: () => ({ ...tlsListener(), address: undefined }), expected: [] },
  {
    name: 'listener address with no kind of address (required oneof)', typeUrl: TYPE.listener, build: () => ({ ...tlsListener(), address: {} }),
    expected: [v('address.address', 'value is required: set one of socket_address, pipe, envoy_internal_address')],
  },
  {
    name: 'listener port over 65535', typeUrl: TYPE.listener, build: () => ({ ...tlsListener(), address: { socketAddress: { address: '0.0.0.0', portValue: 65536 } } }),
    expected: [v('address.socket_address.port_value', 'value must be less than or equal to 65535')],
  },
  {
    name: 'HCM with empty stat_prefix deep inside typed_config', typeUrl: TYPE.listener,
    build: () => { const l = tlsListener(); at(l, 'filterChains', 0, 'filters', 0, 'typedConfig').statPrefix = ''; return l; },
    expected: [v(`${HCM_PATH}.stat_prefix`, 'value length must be at least 1 characters')],
  },
  {
    name: 'HCM rds without config_source (message.required)', typeUrl: TYPE.listener,
    build: () => { const l = tlsListener(); at(l, 'filterChains', 0, 'filters', 0, 'typedConfig').rds = { routeConfigName: 'r' }; return l; },
    expected: [v(`${HCM_PATH}.rds.config_source`, 'value is required')],
  },
  {
    name: 'HCM without a route specifier', typeUrl: TYPE.listener,
    build: () => { const l = tlsListener(); delete at(l, 'filterChains', 0, 'filters', 0, 'typedConfig').rds; return l; },
    expected: [v(`${HCM_PATH}.route_specifier`, 'value is required: set one of rds, route_config, scoped_routes')],
  },
  {
    name: 'HCM numeric and duration bounds, scheme in list', typeUrl: TYPE.listener,
    build: () => {
      const l = tlsListener();
      Object.assign(at(l, 'filterChains', 0, 'filters', 0, 'typedConfig'), { maxRequestHeadersKb: { value: 0 }, accessLogFlushInterval: { nanos: 1 }, schemeHeaderTransformation: { schemeToOverwrite: 'ftp' } });
      return l;
    },
    expected: [
      // In the order the proto declares the fields.
      v(`${HCM_PATH}.scheme_header_transformation.scheme_to_overwrite`, 'value must be in list ["http", "https"]'),
      v(`${HCM_PATH}.max_request_headers_kb`, 'value must be inside range (0, 8192]'),
      v(`${HCM_PATH}.access_log_flush_interval`, 'value must be greater than or equal to 0.001s'),
    ],
  },
  {
    name: 'unspecified SAN type inside the downstream TLS Any (enum not_in)', typeUrl: TYPE.listener,
    build: () => {
      const l = tlsListener();
      at(l, 'filterChains', 0, 'transportSocket', 'typedConfig', 'commonTlsContext', 'combinedValidationContext', 'defaultValidationContext', 'matchTypedSubjectAltNames', 0).sanType = 'SAN_TYPE_UNSPECIFIED';
      return l;
    },
    expected: [v(`filter_chains[0].transport_socket.${TLS}.common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names[0].san_type`, 'value must not be in list [0]')],
  },
  {
    name: 'filter chain source ports (repeated items)', typeUrl: TYPE.listener,
    build: () => { const l = tlsListener(); at(l, 'filterChains', 0, 'filterChainMatch').sourcePorts = [0, 80, 70000]; return l; },
    expected: [v('filter_chains[0].filter_chain_match.source_ports[0]', 'value must be inside range [1, 65535]'), v('filter_chains[0].filter_chain_match.source_ports[2]', 'value must be inside range [1, 65535]')],
  },
  {
    name: 'empty virtual host domains', typeUrl: TYPE.route, build: () => { const r = weightedRoutes(); at(r, 'virtualHosts', 0).domains = []; return r; },
    expected: [v('virtual_hosts[0].domains', 'value must contain at least 1 item(s)')],
  },
  {
    name: 'domain that is not a header value', typeUrl: TYPE.route, build: () => { const r = weightedRoutes(); at(r, 'virtualHosts', 0).domains = ['ok', 'bad\nhost']; return r; },
    expected: [v('virtual_hosts[0].domains[1]', 'value must be a valid HTTP header value')],
  },
  {
    name: 'route without an action (required oneof)', typeUrl: TYPE.route, build: () => { const r = weightedRoutes(); delete at(r, 'virtualHosts', 0, 'routes', 0).route; return r; },
    expected: [v(`${ROUTE}.action`, 'value is required: set one of route, redirect, direct_response, filter_action, non_forwarding_action')],
  },
  {
    name: 'route without match (message.required)', typeUrl: TYPE.route, build: () => { const r = weightedRoutes(); delete at(r, 'virtualHosts', 0, 'routes', 0).match; return r; },
    expected: [v(`${ROUTE}.match`, 'value is required')],
  },
  {
    name: 'weighted clusters with zero items', typeUrl: TYPE.route, build: () => { const r = weightedRoutes(); at(r, 'virtualHosts', 0, 'routes', 0, 'route', 'weightedClusters').clusters = []; return r; },
    expected: [v(`${ROUTE}.route.weighted_clusters.clusters`, 'value must contain at least 1 item(s)')],
  },
  {
    name: 'path_separated_prefix pattern', typeUrl: TYPE.route, build: () => { const r = weightedRoutes(); at(r, 'virtualHosts', 0, 'routes', 0).match = { pathSeparatedPrefix: '/api/' }; return r; },
    expected: [v(`${ROUTE}.match.path_separated_prefix`, 'value does not match regex pattern "^[^?#]+[^?#/]$"')],
  },
  {
    name: 'header to add with a newline in its name, duplicate headers to copy', typeUrl: TYPE.route,
    build: () => {
      const r = weightedRoutes();
      at(r, 'virtualHosts', 0).requestHeadersToAdd = [{ header: { key: 'x-bad\nname', value: 'v' } }];
      at(r, 'virtualHosts', 0, 'routes', 0, 'route').internalRedirectPolicy = { responseHeadersToCopy: ['x-a', 'x-a'] };
      return r;
    },
    expected: [
      v(`${ROUTE}.route.internal_redirect_policy.response_headers_to_copy[1]`, 'repeated value must contain unique items'),
      v('virtual_hosts[0].request_headers_to_add[0].header.key', 'value must be a valid HTTP header name'),
    ],
  },
  {
    name: 'endpoint weight zero (wrapper)', typeUrl: TYPE.endpoints, build: () => { const e = loadAssignment(); at(e, 'endpoints', 0, 'lbEndpoints', 1).loadBalancingWeight = { value: 0 }; return e; },
    expected: [v('endpoints[0].lb_endpoints[1].load_balancing_weight', 'value must be greater than or equal to 1')],
  },
  {
    name: 'secret private key with no source (required oneof)', typeUrl: TYPE.secret, build: () => { const s = certificateSecret(); at(s, 'tlsCertificate').privateKey = {}; return s; },
    expected: [v('tls_certificate.private_key.specifier', 'value is required: set one of filename, inline_bytes, inline_string, environment_variable')],
  },
];

describe('xds/pgv', () => {
  describe('valid Envoy resources have no violations in any form', () => {
    for (const { name, typeUrl, build } of VALID_RESOURCES) {
      it(name, () => {
        const type = typeOf(typeUrl);
        const bytes = encode(type, build());
        const decoded = type.decode(bytes);
        assert.deepEqual(validateMessage(type, build()), [], 'fromObject form');
        assert.deepEqual(validateMessage(type, decoded), [], 'decoded Message');
        assert.deepEqual(validateMessage(type, type.toObject(decoded)), [], 'toObject form');
        assert.deepEqual(validateMessage(type, type.toObject(decoded, { json: true, enums: String, longs: String })), [], 'JSON form');
        assert.deepEqual(validateResource(typeUrl, bytes), [], 'validateResource');
      });
    }
  });

  describe('Envoy resources that break a rule report exactly that path and message', () => {
    for (const { name, typeUrl, build, expected, plainOnly } of ENVOY_CASES) {
      it(name, () => {
        const type = typeOf(typeUrl);
        assert.deepEqual(validateMessage(type, build()), expected, formatPgvViolations(validateMessage(type, build())));
        if (!plainOnly) assert.deepEqual(validateResource(typeUrl, encode(type, build())), expected, 'after encode and decode');
      });
    }
  });

  describe('every rule kind, on a test proto parsed against validate.proto', () => {
    const root = loadRulesRoot();
    const everything = root.lookupType('test.pgv.Everything');
    for (const { name, value, expected, plainOnly } of RULE_CASES) {
      it(name, () => {
        assert.deepEqual(validateMessage(everything, value), expected, formatPgvViolations(validateMessage(everything, value)));
        if (!plainOnly) assert.deepEqual(validateMessage(everything, everything.decode(encode(everything, value))), expected, 'decoded Message');
      });
    }

    it('required message, duration, any, wrapper and oneof', () => {
      const requirements = root.lookupType('test.pgv.Requirements');
      assert.deepEqual(validateMessage(requirements, {}), [
        v('inner', 'value is required'), v('timeout', 'value is required'), v('config', 'value is required'),
        v('weight', 'value is required'), v('pairs', 'value must contain at least 1 pair(s)'),
        v('choice', 'value is required: set one of by_name, by_number'),
      ]);
      const complete = { inner: { id: 'i' }, timeout: { seconds: 1 }, config: { '@type': 'type.googleapis.com/test.pgv.Inner', id: 'x' }, weight: { value: 0 }, pairs: { a: 'b' } };
      assert.deepEqual(validateMessage(requirements, { ...complete, byName: '' }), [], 'an empty string is still a set oneof member');
      // A oneof scalar at its default is set (and encoded), so its rule applies.
      const zero = { ...complete, byNumber: 0 };
      assert.deepEqual(validateMessage(requirements, zero), [v('by_number', 'value must be greater than 0')]);
      assert.deepEqual(validateMessage(requirements, requirements.decode(encode(requirements, zero))), [v('by_number', 'value must be greater than 0')]);
    });

    it('reports an Any whose bytes do not decode, without throwing', () => {
      const bad = { anyIn: { type_url: 'type.googleapis.com/test.pgv.Inner', value: Buffer.from([0x0f]) } }; // field 1 with wire type 7: not protobuf
      const violations = validateMessage(everything, bad);
      assert.equal(violations.length, 1, formatPgvViolations(violations));
      assert.equal(violations[0]!.path, 'any_in<test.pgv.Inner>');
      assert.match(violations[0]!.message, /^cannot decode: /);
    });
  });

  describe('validateResource', () => {
    it('refuses a type URL that names no loaded message', () => {
      assert.throws(() => validateResource('type.googleapis.com/envoy.config.nothing.v3.Nothing', new Uint8Array()), /no message type loaded for type URL type\.googleapis\.com\/envoy\.config\.nothing\.v3\.Nothing/);
    });

    it('reports bytes that do not decode as a violation at the root', () => {
      const violations = validateResource(TYPE.cluster, Uint8Array.from([0x0f]));
      assert.equal(violations.length, 1);
      assert.equal(violations[0]!.path, '');
      assert.match(violations[0]!.message, /^cannot decode envoy\.config\.cluster\.v3\.Cluster: /);
    });
  });

  it('formats violations one per line', () => {
    assert.equal(formatPgvViolations([v('', 'cannot decode X: y'), v('name', 'value length must be at least 1 characters')]), '<root>: cannot decode X: y\nname: value length must be at least 1 characters');
  });

  it('validates 10,000 encoded clusters and finds exactly the broken ones', () => {
    const type = typeOf(TYPE.cluster);
    const broken: number[] = [];
    const found: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const cluster = edsCluster(`cds_egress_colors_node${i}_http_8080`);
      if (i % 997 === 0) {
        cluster.connectTimeout = { seconds: 0 };
        broken.push(i);
      }
      const violations = validateResource(TYPE.cluster, encode(type, cluster));
      if (violations.length > 0) {
        assert.deepEqual(violations, [v('connect_timeout', 'value must be greater than 0s')]);
        found.push(i);
      }
    }
    assert.deepEqual(found, broken);
    assert.equal(found.length, 11);
  });
});
