import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { TypeUrl } from '../../src/xds/type-urls';
import { Snapshot } from '../../src/cache/snapshot';
import { basicSnapshot, edsCluster, loadAssignment, startTestServer, useTestServer, type TestServer } from '../support/fixtures';
import { decodeResource, resourceName, XdsTestClient } from '../support/xds-client';

const NODE = { id: 'mesh/demo/virtualNode/front' };
const KEY = 'mesh/demo/virtualNode/front';

for (const transport of ['tcp', 'unix'] as const) {
  describe(`server/sotw-stream over ${transport}`, () => {
    const server = useTestServer(transport);
    let env: TestServer;
    let client: XdsTestClient;
    beforeEach(() => ({ env, client } = server));

    it('answers a wildcard CDS request with every cluster, then stays quiet after the ACK', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'b'] }));
      const stream = client.sotw();
      stream.send({ node: NODE, typeUrl: TypeUrl.Cluster });
      const response = await stream.next();
      assert.equal(response.typeUrl, TypeUrl.Cluster);
      assert.deepEqual(response.resources.map(resourceName), ['a', 'b']);
      assert.ok(response.versionInfo.length > 0);
      assert.ok(response.nonce.length > 0);
      stream.ack(response);
      assert.ok(await stream.inbox.quiet(), 'an ACK gets no response');
      stream.end();
    });

    it('derives versions from content: the same config gives the same version on a new server', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a'] }));
      const first = client.sotw();
      first.send({ node: NODE, typeUrl: TypeUrl.Cluster });
      const v1 = (await first.next()).versionInfo;
      const other = await startTestServer();
      const otherClient = new XdsTestClient(other.tcpTarget);
      try {
        other.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a'] }));
        const second = otherClient.sotw();
        second.send({ node: NODE, typeUrl: TypeUrl.Cluster });
        assert.equal((await second.next()).versionInfo, v1);
      } finally {
        otherClient.close();
        await other.close();
      }
    });

    it('pushes a changed type only to streams subscribed to it', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a'] }));
      const cds = client.sotw('cds');
      const lds = client.sotw('lds');
      cds.send({ node: NODE, typeUrl: '' });
      lds.send({ node: NODE, typeUrl: '' });
      cds.ack(await cds.next());
      const listeners = await lds.next();
      assert.equal(listeners.typeUrl, TypeUrl.Listener);
      lds.ack(listeners);
      const current = env.cache.getSnapshot(KEY)!;
      env.cache.setSnapshot(KEY, current.with(Snapshot.fromResources({ [TypeUrl.Cluster]: [edsCluster('a', { connectTimeout: { seconds: 5 } })] }).get(TypeUrl.Cluster)!));
      const pushed = await cds.next();
      assert.equal(decodeResource<{ connectTimeout: { seconds: number } }>(pushed.resources[0]!).connectTimeout.seconds, 5);
      assert.ok(await lds.inbox.quiet(), 'the listener stream did not change and gets nothing');
    });

    it('records a NACK, does not resend the rejected version, and sends the next change', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a'] }));
      const stream = client.sotw();
      stream.send({ node: NODE, typeUrl: TypeUrl.Cluster });
      const v1 = await stream.next();
      stream.ack(v1);
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'b'] }));
      const v2 = await stream.next();
      stream.send({ typeUrl: TypeUrl.Cluster, versionInfo: v1.versionInfo, responseNonce: v2.nonce, errorDetail: { code: 3, message: 'cluster b is bad' } });
      assert.ok(await stream.inbox.quiet(), 'a NACK is not answered with the same resources');
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'c'] }));
      const v3 = await stream.next();
      assert.deepEqual(v3.resources.map(resourceName), ['a', 'c']);
      assert.notEqual(v3.versionInfo, v2.versionInfo);
    });

    it('ignores a request carrying a stale nonce', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a'] }));
      const stream = client.sotw('eds');
      stream.send({ node: NODE, resourceNames: ['a'], typeUrl: '' });
      const first = await stream.next();
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a'], endpointPort: 9100 }));
      const second = await stream.next();
      // Answering the first response now is stale: even with new names it must be ignored.
      stream.send({ resourceNames: ['a', 'b'], versionInfo: first.versionInfo, responseNonce: first.nonce, typeUrl: '' });
      assert.ok(await stream.inbox.quiet());
      stream.ack(second, ['a']);
      assert.ok(await stream.inbox.quiet());
    });

    it('serves named EDS subscriptions, follows changes to resource_names, and sends resources when they appear', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'b'] }));
      const stream = client.sotw();
      stream.send({ node: NODE, typeUrl: TypeUrl.ClusterLoadAssignment, resourceNames: ['a'] });
      const first = await stream.next();
      assert.deepEqual(first.resources.map(resourceName), ['a']);
      stream.ack(first, ['a', 'b', 'later']);
      const second = await stream.next();
      assert.deepEqual(second.resources.map(resourceName), ['a', 'b']);
      stream.ack(second, ['a', 'b', 'later']);
      assert.ok(await stream.inbox.quiet());
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'b', 'later'] }));
      const third = await stream.next();
      assert.deepEqual(third.resources.map(resourceName), ['a', 'b', 'later']);
    });

    it('waits for a named route configuration that does not exist yet rather than answering empty', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot());
      const stream = client.sotw();
      stream.send({ node: NODE, typeUrl: TypeUrl.RouteConfiguration, resourceNames: ['not-yet'] });
      assert.ok(await stream.inbox.quiet());
    });

    it('pushes clusters before their endpoints and listeners before their routes on one ADS stream', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a'] }));
      const stream = client.sotw();
      stream.send({ node: NODE, typeUrl: TypeUrl.Listener });
      stream.send({ node: NODE, typeUrl: TypeUrl.RouteConfiguration, resourceNames: ['routes'] });
      stream.send({ node: NODE, typeUrl: TypeUrl.ClusterLoadAssignment, resourceNames: ['a', 'b'] });
      stream.send({ node: NODE, typeUrl: TypeUrl.Cluster });
      const initial = [await stream.next(), await stream.next(), await stream.next(), await stream.next()];
      for (const r of initial) stream.ack(r, r.typeUrl === TypeUrl.ClusterLoadAssignment ? ['a', 'b'] : r.typeUrl === TypeUrl.RouteConfiguration ? ['routes'] : undefined);
      assert.ok(await stream.inbox.quiet());
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'b'], port: 15100 }));
      const order = [(await stream.next()).typeUrl, (await stream.next()).typeUrl, (await stream.next()).typeUrl, (await stream.next()).typeUrl];
      assert.deepEqual(order, [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration]);
    });

    it('refuses a snapshot whose listener names a missing route configuration', () => {
      const broken = Snapshot.fromResources({
        [TypeUrl.Cluster]: [edsCluster('a')],
        [TypeUrl.ClusterLoadAssignment]: [loadAssignment('a', [{ address: '127.0.0.1', port: 1 }])],
        [TypeUrl.Listener]: [basicListener()],
      });
      assert.throws(() => env.cache.setSnapshot(KEY, broken), /refers to RDS routes/);
    });

    it('ends only the stream with a malformed node id, with INVALID_ARGUMENT', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot());
      const good = client.sotw();
      const bad = client.sotw();
      bad.send({ node: { id: 'sidecar~10.0.0.1~pod' }, typeUrl: TypeUrl.Cluster });
      const status = await bad.inbox.ended();
      assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
      assert.match(status.details, /mesh\/<mesh>\/virtualNode\/<name>/);
      good.send({ node: NODE, typeUrl: TypeUrl.Cluster });
      assert.equal((await good.next()).typeUrl, TypeUrl.Cluster);
    });

    it('accepts a full App Mesh ARN as node id', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot());
      const stream = client.sotw();
      stream.send({ node: { id: 'arn:aws:appmesh:us-west-2:123456789012:mesh/demo/virtualNode/front' }, typeUrl: TypeUrl.Cluster });
      assert.equal((await stream.next()).typeUrl, TypeUrl.Cluster);
    });

    it('refuses a foreign type on a per-type service and ignores an unserved one on ADS', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot());
      const cds = client.sotw('cds');
      cds.send({ node: NODE, typeUrl: TypeUrl.Listener });
      const status = await cds.inbox.ended();
      assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
      assert.match(status.details, /CDS does not serve/);

      const ads = client.sotw();
      ads.send({ node: NODE, typeUrl: 'type.googleapis.com/envoy.service.runtime.v3.Runtime' });
      ads.send({ node: NODE, typeUrl: TypeUrl.Cluster });
      assert.equal((await ads.next()).typeUrl, TypeUrl.Cluster);

      const garbage = client.sotw();
      garbage.send({ node: NODE, typeUrl: 'not a type url' });
      assert.equal((await garbage.inbox.ended()).code, grpc.status.INVALID_ARGUMENT);
    });

    it('refuses absurd requests and undecodable bytes with INVALID_ARGUMENT, and keeps serving', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot());
      const huge = client.sotw();
      huge.send({ node: NODE, typeUrl: TypeUrl.ClusterLoadAssignment, resourceNames: Array.from({ length: 100_001 }, (_, i) => `n${i}`) });
      const status = await huge.inbox.ended();
      assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
      assert.match(status.details, /at most 100000/);

      const junk = client.sotw();
      junk.call.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
      assert.equal((await junk.inbox.ended()).code, grpc.status.INVALID_ARGUMENT);

      const noNode = client.sotw();
      noNode.send({ typeUrl: TypeUrl.Cluster });
      assert.match((await noNode.inbox.ended()).details, /node\.id/);

      const fine = client.sotw();
      fine.send({ node: NODE, typeUrl: TypeUrl.Cluster });
      assert.equal((await fine.next()).typeUrl, TypeUrl.Cluster);
    });

    it('survives clients opening and dropping streams in a loop', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot());
      for (let i = 0; i < 200; i++) {
        const s = client.sotw();
        s.send({ node: NODE, typeUrl: TypeUrl.Cluster });
        if (i % 2 === 0) s.call.cancel();
        else s.end();
      }
      const survivor = client.sotw();
      survivor.send({ node: NODE, typeUrl: TypeUrl.Cluster });
      assert.equal((await survivor.next()).typeUrl, TypeUrl.Cluster);
    });
  });
}

function basicListener() {
  const snapshot = basicSnapshot();
  const listener = snapshot.get(TypeUrl.Listener)!.resources.get('ingress')!;
  return { name: 'ingress', message: decodeResource({ typeUrl: TypeUrl.Listener, value: listener.value }) };
}
