import { strict as assert } from 'node:assert';
import { apiKinds, arnOf, describeRef, kinds, parseArn, type ResourceRef } from '../../src/api/resource-kinds';

const context = { region: 'ap-south-1', account: '123456789012' };

describe('api/resource-kinds', () => {
  it('writes and reads back the ARN of every kind', () => {
    for (const kind of apiKinds) {
      const ref: ResourceRef = { kind, meshName: 'app', ...(kinds[kind].parent ? { parentName: 'p' } : {}), name: kind === 'Mesh' ? 'app' : 'n' };
      const arn = arnOf(context, ref);
      assert.match(arn, /^arn:aws:appmesh:ap-south-1:123456789012:mesh\/app/);
      assert.deepEqual(parseArn(context, arn), ref, arn);
    }
    assert.equal(arnOf(context, { kind: 'GatewayRoute', meshName: 'm', parentName: 'gw', name: 'r' }), 'arn:aws:appmesh:ap-south-1:123456789012:mesh/m/virtualGateway/gw/gatewayRoute/r');
  });

  it('says what is wrong with an ARN it cannot use', () => {
    assert.match(parseArn(context, 'arn:aws:s3:::bucket') as string, /not an App Mesh ARN/);
    assert.match(parseArn(context, 'arn:aws:appmesh:us-east-1:123456789012:mesh/app') as string, /not in region ap-south-1/);
    assert.match(parseArn(context, 'arn:aws:appmesh:ap-south-1:123456789012:mesh/app/virtualThing/x') as string, /does not name a mesh resource/);
  });

  it('names resources in messages with their parent and mesh', () => {
    assert.equal(describeRef({ kind: 'Route', meshName: 'm', parentName: 'r', name: 'x' }), 'Route x of VirtualRouter r in mesh m');
  });
});
