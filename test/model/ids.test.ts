import { strict as assert } from 'node:assert';
import { endpointId, parseNodeId, spiffeIdOf, trustDomainId } from '../../src/model/ids';

describe('model/ids', () => {
  it('names endpoints as App Mesh node ids and SPIFFE IDs', () => {
    assert.equal(endpointId('virtualNode', 'colorapp', 'front'), 'mesh/colorapp/virtualNode/front');
    assert.equal(spiffeIdOf('meshd.local', 'virtualGateway', 'colorapp', 'gateway'), 'spiffe://meshd.local/mesh/colorapp/virtualGateway/gateway');
    assert.equal(trustDomainId('meshd.local'), 'spiffe://meshd.local');
  });

  const parseCases: { input: string; id?: string }[] = [
    { input: 'mesh/colorapp/virtualNode/front', id: 'mesh/colorapp/virtualNode/front' },
    { input: 'arn:aws:appmesh:us-west-2:111122223333:mesh/colorapp/virtualGateway/gateway', id: 'mesh/colorapp/virtualGateway/gateway' },
    { input: 'mesh/colorapp/virtualRouter/r' },
    { input: 'mesh/colorapp/virtualNode/front/extra' },
    { input: 'front' },
  ];
  for (const row of parseCases) {
    it(`${row.id ? 'parses' : 'refuses'} node id ${row.input}`, () => {
      assert.equal(parseNodeId(row.input)?.id, row.id);
    });
  }
});
