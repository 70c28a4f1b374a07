import { strict as assert } from 'node:assert';
import { parseNodeId } from '../../src/xds/node-id';

describe('xds/node-id', () => {
  const valid: [string, string, string, string][] = [
    ['mesh/colorapp/virtualNode/front', 'colorapp', 'virtualNode', 'front'],
    ['mesh/colorapp/virtualGateway/gw-1', 'colorapp', 'virtualGateway', 'gw-1'],
    ['arn:aws:appmesh:us-west-2:123456789012:mesh/colorapp/virtualNode/color_blue.v2', 'colorapp', 'virtualNode', 'color_blue.v2'],
    ['arn:aws-cn:appmesh:cn-north-1:123456789012:mesh/m/virtualGateway/g', 'm', 'virtualGateway', 'g'],
  ];
  for (const [id, mesh, kind, name] of valid) {
    it(`parses ${id}`, () => {
      assert.deepEqual(parseNodeId(id), { mesh, kind, name, key: `mesh/${mesh}/${kind}/${name}` });
    });
  }
  for (const id of ['', 'front', 'mesh/m/virtualService/x', 'mesh//virtualNode/x', 'mesh/m/virtualNode/', 'mesh/m/virtualNode/a/b', 'sidecar~1.2.3.4~x~ns.svc']) {
    it(`refuses "${id}" with a message that shows the expected form`, () => {
      assert.throws(() => parseNodeId(id), /mesh\/<mesh>\/virtualNode\/<name>/);
    });
  }
});
