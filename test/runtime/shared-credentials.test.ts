// Node credentials shared by replicas through a real etcd: a revocation or key rotation made on
// one replica holds on every replica (streams end there too, the next bootstrap printed on any
// machine is the same), the shared entries are sealed, and two replicas changing the credentials
// at the same moment cannot both win.
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { NodeCredentials, CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { CredentialConflictError } from '../../src/runtime/shared-credentials';
import { TypeUrl } from '../../src/xds/type-urls';
import { runAdminAction } from '../../src/cli/admin-action';
import { useReplicas, type Replica } from '../support/replicas';
import { XdsTestClient, type SotwTestStream } from '../support/xds-client';

const FRONT = 'mesh/colorapp/virtualNode/front';
const BLUE = 'mesh/colorapp/virtualNode/color-blue';

describe('runtime/shared-credentials (replicas on etcd)', function () {
  this.timeout(60_000);
  const replicas = useReplicas();
  const clients: XdsTestClient[] = [];
  afterEach(() => { for (const client of clients.splice(0)) client.close(); });

  async function ads(replica: Replica, node: string, token: string): Promise<SotwTestStream> {
    const client = new XdsTestClient(replica.meshd.xdsAddresses[0]!);
    clients.push(client);
    const metadata = new grpc.Metadata();
    metadata.set(CREDENTIAL_HEADER, token);
    const stream = client.sotw('ads', metadata);
    stream.send({ node: { id: node }, typeUrl: TypeUrl.Listener });
    assert.equal((await stream.next()).typeUrl, TypeUrl.Listener);
    return stream;
  }

  /** Resolves once `check` holds, polling the replica's own state (the change arrives by etcd's watch). */
  async function eventually(what: string, check: () => boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('a revocation on replica A ends the node\'s streams on B, and both print the same new credential', async () => {
    const a = await replicas.start('a');
    const b = await replicas.start('b');
    const oldFront = a.meshd.credentials.tokenFor(FRONT);
    assert.equal(b.meshd.credentials.tokenFor(FRONT), oldFront, 'one node credential key for every replica');
    const onB = await ads(b, FRONT, oldFront);
    const blueOnB = await ads(b, BLUE, b.meshd.credentials.tokenFor(BLUE));

    const revoked = await runAdminAction({ adminUrl: a.meshd.adminServer!.url, path: '/credentials/revoke', node: FRONT });
    assert.equal(revoked.exitCode, 0, revoked.output);
    const ended = await onB.inbox.ended(10_000);
    assert.equal(ended.code, grpc.status.PERMISSION_DENIED);
    assert.match(ended.details, /revoked/);
    assert.equal(blueOnB.inbox.status, undefined, 'the other node\'s stream on B is untouched');

    const newFront = a.meshd.credentials.tokenFor(FRONT);
    await eventually('B following the revocation', () => b.meshd.credentials.tokenFor(FRONT) === newFront);
    // `meshd bootstrap --state-dir` on B's machine reads B's state directory: the same credential.
    assert.equal(NodeCredentials.load(b.stateDir).tokenFor(FRONT), newFront);
    await ads(b, FRONT, newFront);

    // Sealed in etcd: neither the state document nor the key is readable there.
    const values = await replicas.etcdValues();
    const stateEntry = values.get(`${replicas.prefix}secrets/node-credential-state.json`);
    assert.ok(stateEntry, 'the credential state is in etcd');
    assert.ok(!stateEntry.toString('utf8').includes(FRONT), 'the state document is sealed');
  });

  it('a key rotation on B keeps the old key for the overlap on A too, and A shows the deadline', async () => {
    const a = await replicas.start('a');
    const b = await replicas.start('b');
    const oldFront = a.meshd.credentials.tokenFor(FRONT);
    const rotated = await runAdminAction({ adminUrl: b.meshd.adminServer!.url, path: '/credentials/rotate', params: { overlap: '3600' } });
    assert.equal(rotated.exitCode, 0, rotated.output);
    const newFront = b.meshd.credentials.tokenFor(FRONT);
    await eventually('A following the rotation', () => a.meshd.credentials.tokenFor(FRONT) === newFront);
    await ads(a, FRONT, oldFront); // within the overlap
    await ads(a, FRONT, newFront);
    const status = a.meshd.credentials.status();
    assert.equal(status.retiring.length, 1);
    assert.equal(status.key, b.meshd.credentials.status().key);
  });

  it('two replicas changing the credentials at the same moment: exactly one wins, the other changed nothing and follows', async () => {
    const a = await replicas.start('a');
    const b = await replicas.start('b');
    const results = await Promise.allSettled([a.meshd.credentials.revoke(FRONT), b.meshd.credentials.revoke(BLUE)]);
    const lost = results.filter((result) => result.status === 'rejected');
    assert.equal(lost.length, 1, JSON.stringify(results.map((r) => r.status)));
    assert.ok((lost[0] as PromiseRejectedResult).reason instanceof CredentialConflictError);
    const winner = results[0]!.status === 'fulfilled' ? FRONT : BLUE;
    for (const replica of [a, b]) {
      await eventually(`${replica.name} holding the winner's revocation`, () => replica.meshd.credentials.status().revoked.map((r) => r.endpoint).join() === winner);
    }
  });
});
