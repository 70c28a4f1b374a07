// xds_protocol.rst, "Resource warming" and "Eventual consistency considerations", on ADS SotW and
// ADS Delta (and a per-type EDS stream), against the real server over TCP.
import { strict as assert } from 'node:assert';
import { Snapshot } from '../../../src/cache/snapshot';
import { TypeUrl } from '../../../src/xds/type-urls';
import { edsCluster, httpListener, loadAssignment, routeConfig } from '../../support/fixtures';
import { collectUntilQuiet, edsNamesOf, envoyStartup, NODE_KEY, rdsNamesOf, useProtocolServer, type ProtocolStream, type Received, type VariantName } from './harness';

/** Clusters (optionally with outlier detection), their endpoints, one listener and its route. */
function mesh(opts: { clusters: string[]; outlier?: string[]; route?: string; unusedRoute?: string }): Snapshot {
  const route = opts.route ?? 'routes';
  const unused = opts.unusedRoute ? [routeConfig(opts.unusedRoute, [{ name: opts.clusters[0]!, weight: 1 }])] : [];
  return Snapshot.fromResources({
    [TypeUrl.Cluster]: opts.clusters.map((c) => edsCluster(c, opts.outlier?.includes(c) ? { outlierDetection: { consecutive_5xx: { value: 5 } } } : {})),
    [TypeUrl.ClusterLoadAssignment]: opts.clusters.map((c) => loadAssignment(c, [{ address: '127.0.0.1', port: 9000 }])),
    [TypeUrl.Listener]: [httpListener('ingress', 15000, route)],
    [TypeUrl.RouteConfiguration]: [routeConfig(route, opts.clusters.map((c) => ({ name: c, weight: 1 }))), ...unused],
  });
}

/**
 * Answers like Envoy: a parent response first subscribes to the children it names, then is ACKed
 * (Envoy resumes its paused EDS subscriptions before it queues the CDS ACK).
 */
function answerLikeEnvoy(stream: ProtocolStream): (response: Received) => void {
  return (response) => {
    if (response.typeUrl === TypeUrl.Cluster) stream.subscribe(TypeUrl.ClusterLoadAssignment, edsNamesOf(response));
    if (response.typeUrl === TypeUrl.Listener) stream.subscribe(TypeUrl.RouteConfiguration, rdsNamesOf(response));
    stream.ack(response);
  };
}

for (const variant of ['ADS SotW', 'ADS Delta'] as VariantName[]) {
  describe(`xDS protocol: resource warming (${variant})`, () => {
    const server = useProtocolServer();

    // "Warming of Cluster is completed only when a new ClusterLoadAssignment response is supplied
    // by management server even though there is no change in endpoints."
    it('sends the endpoints of an updated EDS cluster again, although they did not change', async () => {
      server.cache.setSnapshot(NODE_KEY, mesh({ clusters: ['a', 'b'] }));
      const stream = server.open(variant);
      await envoyStartup(stream);
      assert.ok(await stream.quiet(), 'nothing more after start-up');

      server.cache.setSnapshot(NODE_KEY, mesh({ clusters: ['a', 'b'], outlier: ['a'] }));
      const cds = await stream.next();
      assert.equal(cds.type, 'CDS');
      assert.ok(cds.names.includes('a'));
      stream.ack(cds);
      const eds = await stream.next();
      assert.equal(eds.type, 'EDS', 'the updated cluster\'s endpoints follow the CDS update');
      assert.ok(eds.names.includes('a'), `EDS carries cluster a's endpoints (got ${eds.names.join(', ')})`);
      if (variant === 'ADS Delta') assert.deepEqual(eds.names, ['a'], 'Delta resends only the touched cluster\'s endpoints');
      stream.ack(eds);
      assert.ok(await stream.quiet(), 'and nothing else: LDS and RDS did not change');
    });

    it('does not resend endpoints when no EDS cluster changed', async () => {
      server.cache.setSnapshot(NODE_KEY, mesh({ clusters: ['a'] }));
      const stream = server.open(variant);
      await envoyStartup(stream);
      // Only the route configuration set changed: a route the stream does not ask for appeared.
      server.cache.setSnapshot(NODE_KEY, mesh({ clusters: ['a'], unusedRoute: 'other' }));
      assert.ok(await stream.quiet(), 'a change to resources the stream did not ask for sends nothing');
    });

    // "In general, to avoid traffic drop, sequencing of updates should follow a make before break
    // model: CDS updates (if any) must always be pushed first. EDS updates (if any) must arrive
    // after CDS updates for the respective clusters. LDS updates must arrive after corresponding
    // CDS/EDS updates. RDS updates related to the newly added listeners must arrive after
    // CDS/EDS/LDS updates."
    it('pushes a change that adds a cluster and a route as CDS, EDS, LDS, RDS, each once', async () => {
      server.cache.setSnapshot(NODE_KEY, mesh({ clusters: ['a'] }));
      const stream = server.open(variant);
      await envoyStartup(stream);

      server.cache.setSnapshot(NODE_KEY, mesh({ clusters: ['a', 'b'], route: 'routes-2' }));
      const received = await collectUntilQuiet(stream, answerLikeEnvoy(stream));
      assert.deepEqual(received.map((r) => r.type), ['CDS', 'EDS', 'LDS', 'RDS']);
      const eds = received[1]!;
      assert.ok(eds.names.includes('b'), 'the new cluster\'s endpoints are in the one EDS response');
      assert.ok(received[3]!.names.includes('routes-2'));
    });

    it('does not stall a client that ACKs a cluster update without subscribing to its endpoints', async () => {
      server.cache.setSnapshot(NODE_KEY, mesh({ clusters: ['a'] }));
      const stream = server.open(variant);
      await envoyStartup(stream);

      server.cache.setSnapshot(NODE_KEY, mesh({ clusters: ['a', 'b'], outlier: ['a'], route: 'routes-2' }));
      // This client ACKs everything and never changes its subscriptions.
      const received = await collectUntilQuiet(stream, (r) => stream.ack(r));
      const types = received.map((r) => r.type);
      assert.deepEqual(types.slice(0, 2), ['CDS', 'EDS']);
      assert.ok(types.includes('LDS'), `LDS still arrives (got ${types.join(', ')})`);
    });
  });
}

describe('xDS protocol: resource warming (EDS SotW, its own stream)', () => {
  const server = useProtocolServer();

  // Without ADS, Envoy's cluster update reaches the EDS stream as the same request again (its
  // watch was re-created): the server must answer it, or the cluster warms until the timeout.
  it('answers a repeated request for the same endpoints after a cluster update', async () => {
    server.cache.setSnapshot(NODE_KEY, mesh({ clusters: ['a', 'b'] }));
    const stream = server.open('EDS SotW');
    stream.subscribe(TypeUrl.ClusterLoadAssignment, ['a', 'b']);
    const first = await stream.next();
    stream.ack(first);
    server.cache.setSnapshot(NODE_KEY, mesh({ clusters: ['a', 'b'], outlier: ['a'] }));
    assert.ok(await stream.quiet(), 'the endpoints did not change: no push by themselves');
    stream.repeatLastRequest(TypeUrl.ClusterLoadAssignment);
    const again = await stream.next();
    assert.deepEqual(again.names.sort(), ['a', 'b']);
    assert.equal(again.version, first.version, 'same content, same version');
    assert.notEqual(again.nonce, first.nonce);
    stream.ack(again);
    assert.ok(await stream.quiet(), 'an ACK of the answer is not a repeat');
  });
});
