// CSDS shows every node's configuration; once meshd has an admin token, it asks for it.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Meshd } from '../../src/runtime/meshd';
import { messageType } from '../../src/xds/protos';

const EXAMPLE = path.resolve(__dirname, '../../../examples/colorapp');
const FETCH = '/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus';

describe('runtime: CSDS access', function () {
  this.timeout(20_000);
  let work: string;
  let meshd: Meshd;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-csds-'));
    meshd = await Meshd.start({
      configDir: EXAMPLE, xds: ['127.0.0.1:0'], sdsSocket: path.join(work, 'sds.sock'),
      stateDir: path.join(work, 'state'), trustDomain: 'meshd.local', adminToken: 'op-secret',
    });
  });
  after(async () => {
    await meshd.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

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
