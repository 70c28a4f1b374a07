// xds_protocol.rst, "Incremental xDS": "Subscribing to Resources", "Unsubscribing from
// Resources" and reconnecting with initial_resource_versions, on ADS Delta and SDS Delta.
import { strict as assert } from 'node:assert';
import { Snapshot } from '../../../src/cache/snapshot';
import { TypeUrl } from '../../../src/xds/type-urls';
import { basicSnapshot } from '../../support/fixtures';
import { NODE_KEY, useProtocolServer, type ProtocolServer, type ProtocolStream } from './harness';

function secrets(names: string[], generation = 1): Snapshot {
  return Snapshot.fromResources({
    [TypeUrl.Secret]: names.map((name) => ({ name, message: { name, validationContext: { trustedCa: { inlineString: `ca ${name} ${generation}` } } } })),
  });
}

/** A named type and a wildcard-capable type for each Delta service. */
const cases = [
  { variant: 'ADS Delta' as const, named: TypeUrl.ClusterLoadAssignment, setup: (s: ProtocolServer) => s.cache.setSnapshot(NODE_KEY, basicSnapshot({ clusters: ['a', 'b'] })) },
  { variant: 'SDS Delta' as const, named: TypeUrl.Secret, setup: (s: ProtocolServer) => s.cache.setSnapshot(NODE_KEY, secrets(['a', 'b'])) },
];

for (const { variant, named, setup } of cases) {
  describe(`xDS protocol: Delta subscriptions (${variant})`, () => {
    const server = useProtocolServer();
    let stream: ProtocolStream;
    beforeEach(() => {
      setup(server);
      stream = server.open(variant);
    });

    // "A resource_names_subscribe field may contain resource names that the server believes the
    // client is already subscribed to, and furthermore has the most recent versions of. However,
    // the server *must* still provide those resources in the response."
    it('provides a resource again when the client subscribes to a name it already holds', async () => {
      stream.subscribe(named, ['a']);
      const first = await stream.next();
      assert.deepEqual(first.names, ['a']);
      stream.ack(first);
      assert.ok(await stream.quiet());
      stream.subscribe(named, ['a']);
      const again = await stream.next();
      assert.deepEqual(again.names, ['a']);
    });

    it('says again that a subscribed resource does not exist when the client subscribes to it again', async () => {
      stream.subscribe(named, ['ghost']);
      const first = await stream.next();
      assert.deepEqual(first.removed, ['ghost']);
      stream.ack(first);
      stream.subscribe(named, ['ghost']);
      const again = await stream.next();
      assert.deepEqual(again.removed, ['ghost']);
    });

    // "the request must either specify "*" in the resource_names_subscribe field or (legacy
    // behavior) the request must have no resources in both ..." and "On reconnect the
    // Incremental xDS client may tell the server of its known resources to avoid resending them
    // over the network by sending them in initial_resource_versions."
    it('honours initial_resource_versions with an explicit "*" subscription', async () => {
      stream.subscribe(named, ['*']);
      const held = await stream.next();
      assert.deepEqual(held.names.sort(), ['a', 'b']);
      stream.end();
      const versions = Object.fromEntries(await heldVersions(server, variant, named));
      const again = server.open(variant);
      again.subscribe(named, ['*'], { initialVersions: versions });
      const response = await again.next().catch(() => undefined);
      assert.deepEqual(response?.names ?? [], [], 'nothing the client already holds is resent');
    });

    // "When a client has a wildcard subscription ("*") *and* a subscription to another specific
    // resource name ... if the client unsubscribes from that specific resource name ... the
    // server must send a response that includes the specific resource in either the
    // removed_resources field (if it is not included in the wildcard) or in the resources field
    // (if it *is* included in the wildcard)."
    it('answers an unsubscribe of a name the wildcard also covers, with the resource', async () => {
      stream.subscribe(named, ['*', 'a']);
      const first = await stream.next();
      stream.ack(first);
      assert.ok(await stream.quiet());
      stream.unsubscribe(named, ['a']);
      const response = await stream.next();
      assert.deepEqual(response.names, ['a']);
      assert.deepEqual(response.removed, []);
    });

    it('answers an unsubscribe of a name the wildcard does not cover, in removed_resources', async () => {
      stream.subscribe(named, ['*', 'ghost']);
      const first = await stream.next();
      stream.ack(first);
      stream.unsubscribe(named, ['ghost']);
      const response = await stream.next();
      assert.deepEqual(response.names, []);
      assert.deepEqual(response.removed, ['ghost']);
    });

    // "In most cases ... a server does not need to send any response if a request does nothing
    // except unsubscribe from a resource" (and phantom unsubscriptions are ignored).
    it('sends nothing for a plain unsubscribe, or for a name that was never subscribed', async () => {
      stream.subscribe(named, ['a', 'b']);
      stream.ack(await stream.next());
      stream.unsubscribe(named, ['a', 'never']);
      assert.ok(await stream.quiet());
    });
  });
}

/** The versions a fresh wildcard subscriber of the type receives (what a client would hold). */
async function heldVersions(server: ProtocolServer, variant: 'ADS Delta' | 'SDS Delta', typeUrl: string): Promise<[string, string][]> {
  const probe = server.client.delta(variant === 'ADS Delta' ? 'adsDelta' : 'sdsDelta');
  probe.send({ node: { id: NODE_KEY }, typeUrl, resourceNamesSubscribe: ['*'] });
  const response = await probe.next();
  probe.end();
  return response.resources.map((r) => [r.name, r.version]);
}
