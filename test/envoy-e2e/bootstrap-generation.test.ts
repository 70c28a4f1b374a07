import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { NodeCredentials } from '../../src/auth/node-credential';
import { planMesh } from './mesh-plan';
import { DEMO_MESH, runMeshdCli } from './runner';
import { COMPOSE_MESH_DIR } from './compose-mesh';

interface BootstrapYaml {
  node: { id: string; cluster: string };
  admin: { address: { socket_address: { address: string; port_value: number } } };
  dynamic_resources: { ads_config: { grpc_services: Array<{ envoy_grpc: { cluster_name: string }; initial_metadata: Array<{ key: string; value: string }> }> } };
  static_resources: { clusters: Array<{ name: string; load_assignment: { endpoints: Array<{ lb_endpoints: Array<{ endpoint: { address: Record<string, { address?: string; port_value?: number; path?: string }> } }> }> } }> };
}

describe('envoy-e2e: bootstrap for every demo endpoint via `meshd bootstrap`', function () {
  this.timeout(60_000);
  let state: string;
  before(() => {
    state = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-bs-'));
    NodeCredentials.create(state); // as `meshd serve` leaves it: bootstrap never creates state
  });
  after(() => fs.rmSync(state, { recursive: true, force: true }));

  for (const [label, dir, xds] of [['local (examples/colorapp)', DEMO_MESH, '127.0.0.1:18000'], ['compose (test/envoy-e2e/compose-mesh)', COMPOSE_MESH_DIR, 'meshd:18000']] as const) {
    it(`${label}: node id, admin port from the spec, ADS and SDS clusters, credential`, async () => {
      const endpoints = planMesh(dir);
      assert.deepEqual(endpoints.map((e) => e.name).sort(), ['color-blue', 'color-green', 'front', 'gateway']);
      const tokens = new Set<string>();
      for (const endpoint of endpoints) {
        const result = await runMeshdCli(['bootstrap', '--node', endpoint.nodeId, '--xds', xds, '--sds-socket', '/run/meshd/sds.sock',
          '--admin-port', String(endpoint.adminPort), '--state-dir', state]);
        assert.equal(result.code, 0, result.stderr);
        const bootstrap = parse(result.stdout) as BootstrapYaml;
        assert.equal(bootstrap.node.id, endpoint.nodeId);
        assert.equal(bootstrap.node.cluster, endpoint.name);
        assert.equal(bootstrap.admin.address.socket_address.port_value, endpoint.adminPort);
        const [xdsHost, xdsPort] = xds.split(':');
        const clusters = new Map(bootstrap.static_resources.clusters.map((c) => [c.name, c.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address]));
        assert.deepEqual(clusters.get('meshd_xds')!.socket_address, { address: xdsHost, port_value: Number(xdsPort) });
        assert.equal(clusters.get('meshd_sds')!.pipe!.path, '/run/meshd/sds.sock');
        const ads = bootstrap.dynamic_resources.ads_config.grpc_services[0]!;
        assert.equal(ads.envoy_grpc.cluster_name, 'meshd_xds');
        const token = ads.initial_metadata.find((m) => m.key === 'x-meshd-node-token')?.value;
        assert.ok(token, `${endpoint.name}: no credential in the ADS initial metadata`);
        tokens.add(token);
      }
      assert.equal(tokens.size, endpoints.length, 'each endpoint has its own credential');
    });
  }

  it('the demo spec gives every endpoint distinct ports, as one host needs', () => {
    const endpoints = planMesh(DEMO_MESH);
    const ports = endpoints.flatMap((e) => [e.ingressPort, e.adminPort, ...(e.kind === 'virtualNode' ? [e.egressPort, e.appPort!] : [])]);
    assert.equal(new Set(ports).size, ports.length, ports.join(','));
    assert.deepEqual(endpoints.find((e) => e.name === 'gateway'), {
      nodeId: 'mesh/colorapp/virtualGateway/gateway', kind: 'virtualGateway', mesh: 'colorapp', name: 'gateway', ingressPort: 15000, egressPort: 15001, adminPort: 9901,
    });
    assert.equal(endpoints.find((e) => e.name === 'color-green')!.appPort, 8082);
  });
});
