import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { NodeCredentials, CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { runCli } from '../support/run-cli';

describe('cli: meshd bootstrap', () => {
  let stateDir: string;
  beforeEach(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-boot-'));
    NodeCredentials.create(stateDir); // what `meshd serve` leaves there: bootstrap only reads it
  });
  afterEach(() => fs.rmSync(stateDir, { recursive: true, force: true }));

  it('prints an Envoy bootstrap carrying the credential meshd checks, and the SDS socket from APPMESH_SDS_SOCKET_PATH', async () => {
    const result = await runCli(['bootstrap', '--node', 'mesh/demo/virtualNode/front', '--state-dir', stateDir, '--xds', '127.0.0.1:18123'], { APPMESH_SDS_SOCKET_PATH: '/run/sds/sds.sock' });
    assert.equal(result.code, 0, result.stderr);
    const bootstrap = parse(result.stdout);
    assert.equal(bootstrap.node.id, 'mesh/demo/virtualNode/front');
    const metadata = bootstrap.dynamic_resources.ads_config.grpc_services[0].initial_metadata[0];
    assert.equal(metadata.key, CREDENTIAL_HEADER);
    assert.equal(metadata.value, NodeCredentials.load(stateDir).tokenFor('mesh/demo/virtualNode/front'));
    assert.match(result.stdout, /path: \/run\/sds\/sds\.sock/);
  });

  it('takes several replicas by repeating --xds or comma-separating: one endpoint each in the xDS cluster, one target with --grpc', async () => {
    const result = await runCli(['bootstrap', '--node', 'mesh/demo/virtualNode/front', '--state-dir', stateDir, '--xds', '127.0.0.1:18000,127.0.0.1:18010', '--xds', '127.0.0.1:18020'], { APPMESH_SDS_SOCKET_PATH: '/run/sds/sds.sock' });
    assert.equal(result.code, 0, result.stderr);
    const xds = parse(result.stdout).static_resources.clusters.find((c: { name: string }) => c.name === 'meshd_xds');
    assert.deepEqual(xds.load_assignment.endpoints[0].lb_endpoints.map((e: { endpoint: { address: { socket_address: { port_value: number } } } }) => e.endpoint.address.socket_address.port_value), [18000, 18010, 18020]);
    const grpc = await runCli(['bootstrap', '--node', 'mesh/demo/virtualNode/api', '--state-dir', stateDir, '--grpc', '--xds', '127.0.0.1:18000', '--xds', '127.0.0.1:18010']);
    assert.equal(grpc.code, 0, grpc.stderr);
    assert.deepEqual(JSON.parse(grpc.stdout).xds_servers.map((s: { server_uri: string }) => s.server_uri), ['ipv4:127.0.0.1:18000,127.0.0.1:18010']);
  });

  it('carries per-proxy listener ports in node.metadata', async () => {
    const result = await runCli(['bootstrap', '--node', 'mesh/demo/virtualNode/front', '--state-dir', stateDir, '--ingress-port', '15300', '--egress-port', '15301']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(parse(result.stdout).node.metadata, { 'meshd.ingress_port': 15300, 'meshd.egress_port': 15301 });
  });

  it('prints a gRPC xDS bootstrap with --grpc', async () => {
    const result = await runCli(['bootstrap', '--node', 'mesh/demo/virtualNode/api', '--state-dir', stateDir, '--grpc', '--cert-dir', '/certs']);
    assert.equal(result.code, 0, result.stderr);
    const bootstrap = JSON.parse(result.stdout);
    assert.equal(bootstrap.node.id, 'mesh/demo/virtualNode/api');
    assert.equal(bootstrap.node.metadata[CREDENTIAL_HEADER], NodeCredentials.load(stateDir).tokenFor('mesh/demo/virtualNode/api'));
  });

  it('refuses a node id that names no mesh endpoint', async () => {
    const result = await runCli(['bootstrap', '--node', 'front', '--state-dir', stateDir]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /mesh\/<mesh>\/virtualNode\/<name>/);
  });
});
