import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { validateBootstrapConfig, formatTemplateString } from '@grpc/grpc-js-xds/build/src/xds-bootstrap';
import { buildGrpcBootstrap, GRPC_SERVER_LISTENER_TEMPLATE } from '../../src/envoy/grpc-bootstrap';

const nodeId = 'mesh/colorapp/virtualNode/color-blue';

describe('envoy/grpc-bootstrap', () => {
  it('builds the A27 shape: one insecure xDS v3 server, the node, the A36 server listener template', () => {
    const bootstrap = buildGrpcBootstrap({ nodeId });
    assert.deepStrictEqual(bootstrap, {
      xds_servers: [{ server_uri: '127.0.0.1:18000', channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      server_features: ['xds_v3'],
      node: { id: nodeId, cluster: 'color-blue', locality: {} },
      server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
    });
  });

  it('also says xds_v3 at the top level, where grpc-go clients of the 1.3x era look for it', () => {
    // Without it they speak the v2 API, which meshd answers with Unimplemented.
    const bootstrap = JSON.parse(JSON.stringify(buildGrpcBootstrap({ nodeId }))) as { server_features?: unknown; xds_servers: { server_features: unknown }[] };
    assert.deepStrictEqual(bootstrap.server_features, ['xds_v3']);
    assert.deepStrictEqual(bootstrap.xds_servers[0]!.server_features, ['xds_v3']);
  });

  it('reaches several replicas through one multi-address target that grpc-js-xds accepts', () => {
    const v4 = buildGrpcBootstrap({ nodeId, xdsAddresses: ['10.0.0.1:18000', '10.0.0.2:18001'] });
    assert.equal(v4.xds_servers.length, 1);
    assert.equal(v4.xds_servers[0]!.server_uri, 'ipv4:10.0.0.1:18000,10.0.0.2:18001');
    assert.equal(validateBootstrapConfig(JSON.parse(JSON.stringify(v4))).xdsServers[0]!.server_uri, 'ipv4:10.0.0.1:18000,10.0.0.2:18001');
    assert.equal(buildGrpcBootstrap({ nodeId, xdsAddresses: ['[fd00::1]:18000', '[fd00::2]:18000'] }).xds_servers[0]!.server_uri, 'ipv6:[fd00::1]:18000,[fd00::2]:18000');
    assert.equal(buildGrpcBootstrap({ nodeId, xdsAddresses: ['meshd.internal:18000'] }).xds_servers[0]!.server_uri, 'meshd.internal:18000', 'one address stays as it is');
    assert.throws(() => buildGrpcBootstrap({ nodeId, xdsAddresses: ['meshd-1:18000', 'meshd-2:18000'] }), /IP addresses of one family only; .*one DNS name with an address per replica/);
    assert.throws(() => buildGrpcBootstrap({ nodeId, xdsAddresses: ['10.0.0.1:18000', '[fd00::2]:18000'] }), /IP addresses of one family only/);
  });

  it('declares a file_watcher certificate provider over the node certificate directory (A29)', () => {
    const bootstrap = buildGrpcBootstrap({ nodeId, certDir: '/var/lib/meshd/certs/color-blue', refreshIntervalSeconds: 5 });
    assert.deepStrictEqual(bootstrap.certificate_providers, {
      meshd: {
        plugin_name: 'file_watcher',
        config: {
          certificate_file: '/var/lib/meshd/certs/color-blue/cert.pem',
          private_key_file: '/var/lib/meshd/certs/color-blue/key.pem',
          ca_certificate_file: '/var/lib/meshd/certs/color-blue/ca.pem',
          refresh_interval: '5s',
        },
      },
    });
  });

  it('is accepted by grpc-js-xds own bootstrap validation, with every option in use', () => {
    const bootstrap = buildGrpcBootstrap({
      nodeId, cluster: 'colorapp', locality: { region: 'eu-west-1', zone: 'eu-west-1a' },
      xdsAddress: 'meshd.internal:18000', certDir: 'certs', certificateProviderName: 'node-certs',
      certFiles: { certificate: 'chain.pem' }, credential: { header: 'x-meshd-node-token', value: 'tok' },
    });
    // Through JSON text, as GRPC_XDS_BOOTSTRAP_CONFIG would carry it.
    const info = validateBootstrapConfig(JSON.parse(JSON.stringify(bootstrap)));
    assert.equal(info.xdsServers[0]!.server_uri, 'meshd.internal:18000');
    assert.equal(info.node.id, nodeId);
    assert.equal(info.node.cluster, 'colorapp');
    assert.deepEqual(info.node.locality, { region: 'eu-west-1', zone: 'eu-west-1a' });
    assert.deepEqual(info.node.metadata, { fields: { 'x-meshd-node-token': { kind: 'stringValue', stringValue: 'tok' } } });
    assert.equal(info.serverListenerResourceNameTemplate, GRPC_SERVER_LISTENER_TEMPLATE);
    const provider = info.certificateProviders['node-certs']!;
    assert.equal(provider.pluginName, 'file_watcher');
    assert.deepEqual(provider.config, {
      certificateFile: path.resolve('certs', 'chain.pem'),
      privateKeyFile: path.resolve('certs', 'key.pem'),
      caCertificateFile: path.resolve('certs', 'ca.pem'),
      refreshIntervalMs: 10_000,
    });
    assert.equal(formatTemplateString(info.serverListenerResourceNameTemplate!, '0.0.0.0:50051'), 'grpc/server?xds.resource.listening_address=0.0.0.0:50051');
  });

  it('writes gRPC target syntax for Unix sockets and IPv6 literals', () => {
    assert.equal(buildGrpcBootstrap({ nodeId, xdsAddress: 'unix:/run/meshd/xds.sock' }).xds_servers[0]!.server_uri, 'unix:///run/meshd/xds.sock');
    assert.equal(buildGrpcBootstrap({ nodeId, xdsAddress: '[::1]:18000' }).xds_servers[0]!.server_uri, '[::1]:18000');
  });

  it('refuses a node id that is not a mesh endpoint and a non-positive refresh interval', () => {
    assert.throws(() => buildGrpcBootstrap({ nodeId: 'color-blue' }), /"color-blue" is not a mesh endpoint/);
    assert.throws(() => buildGrpcBootstrap({ nodeId, certDir: '/c', refreshIntervalSeconds: 0 }), /refresh interval 0s/);
  });
});
