import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import {
  buildEnvoyBootstrap, renderBootstrapYaml, bootstrapToEnvoyJson, sdsConfigSource, nodeNameOf,
  SDS_CLUSTER_NAME, XDS_CLUSTER_NAME, type ProtoObject,
} from '../../src/envoy/bootstrap';
import { messageType } from '../../src/xds/protos';
import { BOOTSTRAP_CASE_OPTIONS, representativeBootstraps } from './bootstrap-cases';

const credential = { header: 'x-meshd-node-token', value: 'tok-front-3f9a' };
const base = { nodeId: 'mesh/colorapp/virtualNode/front', sdsSocketPath: '/run/meshd/sds.sock', credential };

// Envoy's YAML as a loosely typed tree, to read fields back by their proto names.
interface Yaml { readonly [key: string]: Yaml; readonly [index: number]: Yaml }

function clusterNamed(doc: Yaml, name: string): Yaml {
  const found = (doc.static_resources.clusters as unknown as Yaml[]).find((c) => (c.name as unknown) === name);
  assert.ok(found, `cluster ${name} is in the bootstrap`);
  return found;
}

describe('envoy/bootstrap', () => {
  for (const { name, bootstrap } of representativeBootstraps()) {
    it(`round-trips through Envoy's Bootstrap proto without losing a field (${name})`, () => {
      const Bootstrap = messageType('envoy.config.bootstrap.v3.Bootstrap');
      const conversion = { enums: String, longs: Number, json: true };
      const viaObject = Bootstrap.toObject(Bootstrap.fromObject(bootstrap), conversion);
      assert.deepStrictEqual(viaObject, bootstrap);
      const viaWire = Bootstrap.toObject(Bootstrap.decode(Bootstrap.encode(Bootstrap.fromObject(bootstrap)).finish()), conversion);
      assert.deepStrictEqual(viaWire, bootstrap);
    });
  }

  it('renders YAML that carries the node id, the credential on ADS and the SDS pipe', () => {
    const doc = parse(renderBootstrapYaml(buildEnvoyBootstrap(base))) as Yaml;
    assert.equal(doc.node.id, 'mesh/colorapp/virtualNode/front');
    assert.equal(doc.node.cluster, 'front');
    assert.deepEqual(doc.admin.address.socket_address, { address: '127.0.0.1', port_value: 9901 });
    const ads = doc.dynamic_resources.ads_config;
    assert.equal(ads.api_type, 'GRPC');
    assert.equal(ads.transport_api_version, 'V3');
    assert.equal(ads.set_node_on_first_message_only, true);
    assert.equal(ads.grpc_services[0]!.envoy_grpc.cluster_name, XDS_CLUSTER_NAME);
    assert.deepEqual(ads.grpc_services[0]!.initial_metadata, [{ key: 'x-meshd-node-token', value: 'tok-front-3f9a' }]);
    for (const key of ['cds_config', 'lds_config']) {
      assert.deepEqual(doc.dynamic_resources[key], { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '15s' });
    }
    const sds = clusterNamed(doc, SDS_CLUSTER_NAME);
    assert.equal(sds.type, 'STATIC');
    assert.equal(sds.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.pipe.path, '/run/meshd/sds.sock');
    const xds = clusterNamed(doc, XDS_CLUSTER_NAME);
    assert.deepEqual(xds.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address, { address: '127.0.0.1', port_value: 18000 });
  });

  it('speaks HTTP/2 to both meshd clusters through a typed Any Envoy can resolve', () => {
    const doc = parse(renderBootstrapYaml(buildEnvoyBootstrap(base))) as Yaml;
    for (const name of [XDS_CLUSTER_NAME, SDS_CLUSTER_NAME]) {
      const options = clusterNamed(doc, name).typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
      assert.equal(options['@type'], 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions');
      assert.deepEqual(options.explicit_http_config.http2_protocol_options.connection_keepalive, { interval: '30s', timeout: '5s' });
      assert.equal(clusterNamed(doc, name).connect_timeout, '1s');
    }
  });

  it('sends the credential on SDS streams through the config source the TLS contexts use', () => {
    const source = sdsConfigSource(credential);
    const ConfigSource = messageType('envoy.config.core.v3.ConfigSource');
    assert.deepStrictEqual(ConfigSource.toObject(ConfigSource.fromObject(source), { enums: String, longs: Number, json: true }), source);
    const api = source.apiConfigSource as ProtoObject;
    const service = (api.grpcServices as ProtoObject[])[0]!;
    assert.equal((service.envoyGrpc as ProtoObject).clusterName, SDS_CLUSTER_NAME);
    assert.deepEqual(service.initialMetadata, [{ key: 'x-meshd-node-token', value: 'tok-front-3f9a' }]);
    assert.equal(api.apiType, 'GRPC');
  });

  it('reaches meshd over a Unix socket with a pipe address and no TCP keepalive', () => {
    const doc = parse(renderBootstrapYaml(buildEnvoyBootstrap(BOOTSTRAP_CASE_OPTIONS['unix socket']!))) as Yaml;
    const xds = clusterNamed(doc, XDS_CLUSTER_NAME);
    assert.equal(xds.type, 'STATIC');
    assert.equal(xds.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.pipe.path, '/run/meshd/xds.sock');
    assert.equal(xds.upstream_connection_options, undefined);
  });

  it('resolves a host name with STRICT_DNS, preferring IPv4, and keeps IP literals STATIC', () => {
    const dns = clusterNamed(parse(renderBootstrapYaml(buildEnvoyBootstrap(BOOTSTRAP_CASE_OPTIONS['dns name']!))) as Yaml, XDS_CLUSTER_NAME);
    assert.equal(dns.type, 'STRICT_DNS');
    assert.equal(dns.dns_lookup_family, 'V4_PREFERRED');
    assert.deepEqual(dns.upstream_connection_options.tcp_keepalive, { keepalive_probes: 3, keepalive_time: 30, keepalive_interval: 5 });
    const v6 = clusterNamed(parse(renderBootstrapYaml(buildEnvoyBootstrap(BOOTSTRAP_CASE_OPTIONS['gateway arn']!))) as Yaml, XDS_CLUSTER_NAME);
    assert.equal(v6.type, 'STATIC');
    assert.equal(v6.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address.address, '::1');
  });

  it('gives several replicas one xDS cluster with one endpoint each, and keeps SDS on the local socket', () => {
    const doc = parse(renderBootstrapYaml(buildEnvoyBootstrap({ ...base, xdsAddresses: ['10.0.0.1:18000', '10.0.0.2:18000', '[fd00::3]:18000'] }))) as Yaml;
    const xds = clusterNamed(doc, XDS_CLUSTER_NAME);
    assert.equal(xds.type, 'STATIC');
    assert.equal((xds.load_assignment.endpoints as unknown as Yaml[]).length, 1);
    const endpoints = xds.load_assignment.endpoints[0]!.lb_endpoints as unknown as Yaml[];
    assert.deepEqual(endpoints.map((e) => [e.endpoint.address.socket_address.address, e.endpoint.address.socket_address.port_value]),
      [['10.0.0.1', 18000], ['10.0.0.2', 18000], ['fd00::3', 18000]]);
    assert.equal((doc.static_resources.clusters as unknown as Yaml[]).length, 2, 'one xDS cluster for all replicas, beside SDS');
    assert.equal((doc.dynamic_resources.ads_config.grpc_services as unknown as Yaml[]).length, 1);
    assert.equal(clusterNamed(doc, SDS_CLUSTER_NAME).load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.pipe.path, '/run/meshd/sds.sock');
    const named = clusterNamed(parse(renderBootstrapYaml(buildEnvoyBootstrap({ ...base, xdsAddresses: ['meshd-1:18000', 'meshd-2:18000'] }))) as Yaml, XDS_CLUSTER_NAME);
    assert.equal(named.type, 'STRICT_DNS', 'host names are resolved, each to its own endpoint');
    assert.equal((named.load_assignment.endpoints[0]!.lb_endpoints as unknown as Yaml[]).length, 2);
    assert.throws(() => buildEnvoyBootstrap({ ...base, xdsAddresses: ['10.0.0.1:18000', 'unix:/run/meshd/xds.sock'] }), /all as HOST:PORT or all as unix:PATH/);
    assert.throws(() => buildEnvoyBootstrap({ ...base, xdsAddresses: ['10.0.0.1:18000', '10.0.0.1:18000'] }), /"10\.0\.0\.1:18000" is given twice/);
    assert.throws(() => buildEnvoyBootstrap({ ...base, xdsAddresses: ['10.0.0.1:18000', '10.0.0.2:0'] }), /"10\.0\.0\.2:0": port 0 cannot be dialled/);
  });

  it('takes the SDS socket from APPMESH_SDS_SOCKET_PATH when none is given, and says when neither is', () => {
    const fromEnv = buildEnvoyBootstrap({ nodeId: base.nodeId, credential, env: { APPMESH_SDS_SOCKET_PATH: '/tmp/appmesh-sds.sock' } });
    const doc = parse(renderBootstrapYaml(fromEnv)) as Yaml;
    assert.equal(clusterNamed(doc, SDS_CLUSTER_NAME).load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.pipe.path, '/tmp/appmesh-sds.sock');
    assert.throws(() => buildEnvoyBootstrap({ nodeId: base.nodeId, credential, env: {} }), /APPMESH_SDS_SOCKET_PATH is not set/);
  });

  it('names the cluster after the endpoint unless told otherwise', () => {
    assert.equal(nodeNameOf('arn:aws:appmesh:us-west-2:123456789012:mesh/colorapp/virtualGateway/ingress-gw'), 'ingress-gw');
    const node = buildEnvoyBootstrap({ ...base, cluster: 'colorapp-front' }).node as ProtoObject;
    assert.equal(node.cluster, 'colorapp-front');
  });

  it('refuses bad node ids, addresses and credentials, without echoing the secret', () => {
    assert.throws(() => buildEnvoyBootstrap({ ...base, nodeId: 'front' }), /"front" is not a mesh endpoint: expected mesh\//);
    assert.throws(() => buildEnvoyBootstrap({ ...base, xdsAddress: 'meshd' }), /address "meshd"/);
    assert.throws(() => buildEnvoyBootstrap({ ...base, xdsAddress: '127.0.0.1:70000' }), /out of range/);
    assert.throws(() => buildEnvoyBootstrap({ ...base, credential: { header: 'X-Token', value: 'v' } }), /credential header "X-Token"/);
    assert.throws(
      () => buildEnvoyBootstrap({ ...base, credential: { header: 'x-token', value: 'secret-value\n' } }),
      (err: Error) => /value must be non-empty printable text/.test(err.message) && !err.message.includes('secret-value'),
    );
    assert.throws(() => buildEnvoyBootstrap({ ...base, adminPort: 99999 }), /admin port 99999/);
  });

  it('refuses a field Envoy does not know instead of dropping it', () => {
    const bootstrap = buildEnvoyBootstrap(base);
    (bootstrap.admin as ProtoObject).accessLogPth = '/dev/null';
    assert.throws(() => bootstrapToEnvoyJson(bootstrap), /admin\.accessLogPth: not a field of envoy\.config\.bootstrap\.v3\.Admin/);
  });
});
