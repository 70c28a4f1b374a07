import { strict as assert } from 'node:assert';
import {
  appMeshArn, endpointKey, endpointOfSpiffeId, isValidTrustDomain, parseNodeId, spiffeIdOf, trustDomainId, tryParseNodeId,
} from '../../src/identity/endpoint-id';

describe('identity/endpoint-id', () => {
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

  it('returns undefined instead of throwing from tryParseNodeId', () => {
    assert.equal(tryParseNodeId('front'), undefined);
    assert.equal(tryParseNodeId('mesh/m/virtualNode/a')?.key, 'mesh/m/virtualNode/a');
  });

  it('formats the key, the SPIFFE IDs and the App Mesh ARN of one endpoint, and reads a SPIFFE ID back', () => {
    const front = parseNodeId('mesh/colorapp/virtualNode/front');
    assert.equal(endpointKey('colorapp', 'virtualNode', 'front'), front.key);
    assert.equal(trustDomainId('meshd.local'), 'spiffe://meshd.local');
    assert.equal(spiffeIdOf('meshd.local', front), 'spiffe://meshd.local/mesh/colorapp/virtualNode/front');
    assert.deepEqual(endpointOfSpiffeId('meshd.local', spiffeIdOf('meshd.local', front)), front);
    assert.equal(endpointOfSpiffeId('other.td', spiffeIdOf('meshd.local', front)), undefined);
    assert.equal(endpointOfSpiffeId('meshd.local', 'spiffe://meshd.local/front'), undefined, 'an assigned (SPIRE-style) ID names no endpoint');
    const arn = appMeshArn(front, 'us-west-2', '111122223333');
    assert.equal(arn, 'arn:aws:appmesh:us-west-2:111122223333:mesh/colorapp/virtualNode/front');
    assert.deepEqual(parseNodeId(arn), front, 'an ARN parses back to the endpoint');
  });

  it('knows a SPIFFE trust domain name', () => {
    assert.ok(isValidTrustDomain('meshd.local'));
    assert.ok(!isValidTrustDomain('Meshd.Local'));
    assert.ok(!isValidTrustDomain('a/b'));
  });
});
