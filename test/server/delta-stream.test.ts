import { strict as assert } from 'node:assert';
import { TypeUrl } from '../../src/xds/type-urls';
import { basicSnapshot, useTestServer, type TestServer } from '../support/fixtures';
import { decodeResource, XdsTestClient } from '../support/xds-client';

const NODE = { id: 'mesh/demo/virtualNode/front' };
const KEY = 'mesh/demo/virtualNode/front';

for (const transport of ['tcp', 'unix'] as const) {
  describe(`server/delta-stream over ${transport}`, () => {
    const server = useTestServer(transport);
    let env: TestServer;
    let client: XdsTestClient;
    beforeEach(() => ({ env, client } = server));

    it('sends every cluster to a wildcard subscriber, then only what changed, with removals', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'b'] }));
      const stream = client.delta();
      stream.send({ node: NODE, typeUrl: TypeUrl.Cluster });
      const first = await stream.next();
      assert.deepEqual(first.resources.map((r) => r.name).sort(), ['a', 'b']);
      assert.ok(first.systemVersionInfo);
      assert.equal(decodeResource<{ name: string }>(first.resources[0]!.resource!).name, first.resources[0]!.name);
      stream.ack(first);
      assert.ok(await stream.inbox.quiet());

      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['b', 'c'] }));
      const second = await stream.next();
      assert.deepEqual(second.resources.map((r) => r.name), ['c'], 'b did not change and is not resent');
      assert.deepEqual(second.removedResources, ['a']);
    });

    it('honours subscribe and unsubscribe for named resources', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'b', 'c'] }));
      const stream = client.delta();
      stream.send({ node: NODE, typeUrl: TypeUrl.ClusterLoadAssignment, resourceNamesSubscribe: ['a'] });
      const first = await stream.next();
      assert.deepEqual(first.resources.map((r) => r.name), ['a']);
      stream.send({ typeUrl: TypeUrl.ClusterLoadAssignment, responseNonce: first.nonce, resourceNamesSubscribe: ['b'] });
      const second = await stream.next();
      assert.deepEqual(second.resources.map((r) => r.name), ['b']);
      stream.send({ typeUrl: TypeUrl.ClusterLoadAssignment, responseNonce: second.nonce, resourceNamesUnsubscribe: ['a'] });
      assert.ok(await stream.inbox.quiet());
      // After unsubscribing, a change to a does not reach this stream; a change to b does.
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'b', 'c'], endpointPort: 9200 }));
      const third = await stream.next();
      assert.deepEqual(third.resources.map((r) => r.name), ['b']);
    });

    it('tells the client once that a subscribed resource does not exist, and sends it when it appears', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a'] }));
      const stream = client.delta();
      stream.send({ node: NODE, typeUrl: TypeUrl.ClusterLoadAssignment, resourceNamesSubscribe: ['a', 'ghost'] });
      const first = await stream.next();
      assert.deepEqual(first.resources.map((r) => r.name), ['a']);
      assert.deepEqual(first.removedResources, ['ghost']);
      stream.ack(first);
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'ghost'] }));
      const second = await stream.next();
      assert.deepEqual(second.resources.map((r) => r.name), ['ghost']);
      assert.deepEqual(second.removedResources, []);
    });

    it('uses initial_resource_versions on reconnect so unchanged resources are not resent', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'b'] }));
      const before = client.delta();
      before.send({ node: NODE, typeUrl: TypeUrl.Cluster });
      const held = await before.next();
      before.end();
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'c'] }));
      const after = client.delta();
      after.send({
        node: NODE,
        typeUrl: TypeUrl.Cluster,
        initialResourceVersions: Object.fromEntries(held.resources.map((r) => [r.name, r.version])),
      });
      const response = await after.next();
      assert.deepEqual(response.resources.map((r) => r.name), ['c']);
      assert.deepEqual(response.removedResources, ['b']);
    });

    it('records a NACK and does not resend until the resource changes', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a'] }));
      const stream = client.delta();
      stream.send({ node: NODE, typeUrl: TypeUrl.Cluster });
      const first = await stream.next();
      stream.send({ typeUrl: TypeUrl.Cluster, responseNonce: first.nonce, errorDetail: { code: 3, message: 'no' } });
      assert.ok(await stream.inbox.quiet());
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a'] })); // same content: nothing to say
      assert.ok(await stream.inbox.quiet());
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: ['a', 'd'] }));
      assert.deepEqual((await stream.next()).resources.map((r) => r.name), ['d']);
    });

    it('answers a wildcard subscription made before the node has any configuration, once it has', async () => {
      const stream = client.delta('cdsDelta');
      stream.send({ node: NODE, typeUrl: '' });
      assert.ok(await stream.inbox.quiet(200));
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: [] }));
      const first = await stream.next();
      assert.equal(first.typeUrl, TypeUrl.Cluster);
      assert.deepEqual(first.resources, []);
    });

    it('answers an empty wildcard subscription so the client can finish initialising', async () => {
      env.cache.setSnapshot(KEY, basicSnapshot({ clusters: [] }));
      const stream = client.delta('cdsDelta');
      stream.send({ node: NODE, typeUrl: '' });
      const first = await stream.next();
      assert.equal(first.typeUrl, TypeUrl.Cluster);
      assert.deepEqual(first.resources, []);
    });
  });
}
