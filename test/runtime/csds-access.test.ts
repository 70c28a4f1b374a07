// CSDS shows every node's configuration; once meshd has an admin token, it asks for it.
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import type { Meshd } from '../../src/runtime/meshd';
import { useMeshd } from '../support/meshd';
import { messageType } from '../../src/xds/protos';

const FETCH = '/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus';

describe('runtime: CSDS access', function () {
  this.timeout(20_000);
  const fixture = useMeshd({ scope: 'all', options: () => ({ adminToken: 'op-secret' }) });
  let meshd: Meshd;
  before(() => { meshd = fixture.meshd; });

  function fetchStatus(token?: string): Promise<grpc.ServiceError | null> {
    const client = new grpc.Client(meshd.xdsAddresses[0]!, grpc.credentials.createInsecure());
    const Request = messageType('envoy.service.status.v3.ClientStatusRequest');
    const metadata = new grpc.Metadata();
    if (token) metadata.set('authorization', `Bearer ${token}`);
    return new Promise((resolve) => {
      client.makeUnaryRequest(FETCH, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(Request.encode(Request.fromObject({})).finish()), metadata, (err) => {
        client.close();
        resolve(err);
      });
    });
  }

  it('refuses a client status request without the admin token, and answers one with it', async () => {
    assert.equal((await fetchStatus())?.code, grpc.status.PERMISSION_DENIED);
    assert.equal((await fetchStatus('wrong'))?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(await fetchStatus('op-secret'), null);
  });
});
