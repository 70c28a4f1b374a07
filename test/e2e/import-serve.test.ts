// Each import fixture, converted by the real import and served by a real meshd: every endpoint of
// the result (virtual nodes and the gateway) gets listeners and clusters over ADS.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { runImportCloudFormation, runImportK8s, type ImportOutcome } from '../../src/cli/import';
import { DEFAULT_SPEC_LIMITS } from '../../src/spec/limits';
import { TypeUrl } from '../../src/xds/type-urls';
import { useMeshd, type MeshdFixture } from '../support/meshd';
import { resourceName, XdsTestClient } from '../support/xds-client';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/import');
const options = (out: string): { out: string; check: false; trustDomain: string; limits: typeof DEFAULT_SPEC_LIMITS } => ({ out, check: false, trustDomain: 'meshd.local', limits: DEFAULT_SPEC_LIMITS });

async function everyEndpointGetsConfig(fixture: MeshdFixture, endpoints: readonly string[]): Promise<void> {
  assert.deepEqual(Object.keys(fixture.meshd.currentModel?.endpoints ?? {}).sort(), [...endpoints].sort());
  const client = new XdsTestClient(fixture.meshd.xdsAddresses[0]!);
  try {
    for (const node of endpoints) {
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, fixture.meshd.credentials.tokenFor(node));
      const stream = client.sotw('ads', metadata);
      stream.send({ node: { id: node }, typeUrl: TypeUrl.Listener });
      const listeners = (await stream.next()).resources.map(resourceName);
      assert.ok(listeners.length > 0, `${node}: no listeners`);
      stream.send({ node: { id: node }, typeUrl: TypeUrl.Cluster });
      const clusters = (await stream.next()).resources.map(resourceName);
      assert.ok(clusters.length > 0, `${node}: no clusters`);
    }
  } finally {
    client.close();
  }
}

const endpoints = (gateway: string, nodes: readonly string[]): string[] => [
  `mesh/colors/virtualGateway/${gateway}`, ...nodes.map((node) => `mesh/colors/virtualNode/${node}`),
];

function importedInto(run: (out: string) => Promise<ImportOutcome>): MeshdFixture {
  return useMeshd({
    copyFrom: false,
    configDir: '',
    prepare: async (work) => {
      const outcome = await run(path.join(work, 'imported'));
      assert.equal(outcome.exitCode, 0, outcome.report);
    },
    options: (work) => ({ configDir: path.join(work, 'imported') }),
  });
}

describe('e2e: imported meshes served by meshd', function () {
  this.timeout(60_000);

  describe('from CloudFormation', () => {
    const fixture = importedInto((out) => runImportCloudFormation(
      [path.join(FIXTURES, 'cloudformation/mesh.yaml'), path.join(FIXTURES, 'cloudformation/services.json')],
      ['mesh.yaml:AWS::StackName=colors-mesh', 'AWS::Region=us-west-2', 'AWS::AccountId=111122223333'],
      options(out),
    ));
    it('gives every endpoint listeners and clusters', () => everyEndpointGetsConfig(fixture, endpoints('ingress', ['front', 'blue', 'green'])));
  });

  describe('from the App Mesh controller', () => {
    const fixture = importedInto((out) => runImportK8s([path.join(FIXTURES, 'k8s')], options(out)));
    it('gives every endpoint listeners and clusters', () => everyEndpointGetsConfig(fixture, endpoints('ingress_colors', ['front_colors', 'blue_colors', 'green_colors'])));
  });
});
