import { strict as assert } from 'node:assert';
import { appMeshTypes, arnResourcePath, nameAttribute, nameFromAppMeshArn } from '../../src/import/cfn-kinds';

describe('import: App Mesh resource types of CloudFormation', () => {
  it('builds ARN paths and names attributes as CloudFormation does', () => {
    const route = { type: appMeshTypes['AWS::AppMesh::Route']!, meshName: 'm', name: 'r1', parentName: 'vr' };
    assert.equal(arnResourcePath(route), 'mesh/m/virtualRouter/vr/route/r1');
    assert.equal(arnResourcePath({ type: appMeshTypes['AWS::AppMesh::Mesh']!, meshName: 'm', name: 'm' }), 'mesh/m');
    assert.equal(nameAttribute(route, 'RouteName'), 'r1');
    assert.equal(nameAttribute(route, 'VirtualRouterName'), 'vr');
    assert.equal(nameAttribute(route, 'MeshName'), 'm');
    assert.equal(nameAttribute(route, 'Uid'), undefined);
  });

  it('reads the name at the end of an App Mesh ARN and nothing else', () => {
    assert.equal(nameFromAppMeshArn('arn:aws:appmesh:us-east-1:111122223333:mesh/m/virtualGateway/g/gatewayRoute/gr'), 'gr');
    assert.equal(nameFromAppMeshArn('arn:aws-cn:appmesh:cn-north-1:1:mesh/m'), 'm');
    assert.equal(nameFromAppMeshArn('arn:aws:acm:us-east-1:1:certificate/c'), undefined);
    assert.equal(nameFromAppMeshArn('front'), undefined);
  });
});
