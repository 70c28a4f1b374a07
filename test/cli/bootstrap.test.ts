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
