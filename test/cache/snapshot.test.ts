import { strict as assert } from 'node:assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Snapshot, ResourceSet } from '../../src/cache/snapshot';
import { SnapshotCache } from '../../src/cache/snapshot-cache';
import { encodeResource } from '../../src/cache/resource';
import { TypeUrl } from '../../src/xds/type-urls';
import { MessageParts, type OutgoingMessage } from '../../src/xds/message-parts';
import { basicSnapshot, edsCluster, httpListener } from '../support/fixtures';

describe('cache/snapshot', () => {
  it('gives the same version to the same content regardless of order', () => {
    const a = encodeResource(TypeUrl.Cluster, 'a', edsCluster('a').message);
    const b = encodeResource(TypeUrl.Cluster, 'b', edsCluster('b').message);
    assert.equal(new ResourceSet(TypeUrl.Cluster, [a, b]).version, new ResourceSet(TypeUrl.Cluster, [b, a]).version);
    const b2 = encodeResource(TypeUrl.Cluster, 'b', edsCluster('b', { connectTimeout: { seconds: 9 } }).message);
    assert.notEqual(new ResourceSet(TypeUrl.Cluster, [a, b]).version, new ResourceSet(TypeUrl.Cluster, [a, b2]).version);
  });

  it('orders resources by name, small sets and large ones alike, whatever order they come in', () => {
    for (const count of [4, 17, 40]) {
      const names = Array.from({ length: count }, (_, i) => (i % 3 === 0 ? `Upper-${i}` : i % 3 === 1 ? `lower-${i}` : `spiffe://td/${i}`));
      const resources = names.map((name) => encodeResource(TypeUrl.Cluster, name, edsCluster(name).message));
      const sorted = [...names].sort();
      for (const order of [resources, [...resources].reverse(), [...resources.slice(count >> 1), ...resources.slice(0, count >> 1)]]) {
        const set = new ResourceSet(TypeUrl.Cluster, order);
        assert.deepEqual([...set.resources.keys()], sorted, `${count} resources`);
        assert.equal(set.version, new ResourceSet(TypeUrl.Cluster, resources).version);
      }
    }
  });

  it('refuses two resources with one name', () => {
    const a = encodeResource(TypeUrl.Cluster, 'a', edsCluster('a').message);
    assert.throws(() => new ResourceSet(TypeUrl.Cluster, [a, a]), /two resources are named "a"/);
  });

  it('shares one response body between every stream asking for the same thing', () => {
    const set = basicSnapshot({ clusters: ['a', 'b'] }).get(TypeUrl.Cluster)!;
    assert.equal(set.sotwBody(null, '*'), set.sotwBody(null, '*'));
    assert.equal(set.sotwBody(['a'], 'a'), set.sotwBody(['a'], 'a'));
    assert.ok(set.sotwBody(['a'], 'a').length < set.sotwBody(null, '*').length);
  });

  it('keeps a response asked for twice, and one asked for once only as long as someone holds it', async () => {
    const set = basicSnapshot({ clusters: ['a', 'b'] }).get(TypeUrl.Cluster)!;
    const first = set.sotwResponse(['a'], 'a');
    // A second stream asking for the same selection gets the same response (bytes and nonce),
    // joined into memory of its own and kept.
    const kept = set.sotwResponse(['a'], 'a');
    assert.equal(kept.nonce, first.nonce);
    assert.ok(bytesOf(kept.message).equals(bytesOf(first.message)));
    assert.ok(Buffer.isBuffer(kept.message));
    const once = new WeakRef(set.sotwResponse(['b'], 'b'));
    await new Promise((resolve) => setImmediate(resolve)); // WeakRef targets live to the end of the job
    fullGc();
    assert.equal(once.deref(), undefined, 'a response asked for once is not kept by the set');
    assert.equal(set.sotwResponse(['a'], 'a'), kept, 'one asked for twice is kept');
  });

  it('finds every dangling reference: clusters without endpoints, listeners without routes', () => {
    const snapshot = Snapshot.fromResources({
      [TypeUrl.Cluster]: [edsCluster('a'), edsCluster('b', { edsClusterConfig: { serviceName: 'b-endpoints', edsConfig: { ads: {} } } })],
      [TypeUrl.Listener]: [httpListener('in', 15000, 'r1')],
    });
    assert.deepEqual(snapshot.consistencyErrors(), [
      'CDS a refers to EDS a, which the snapshot does not have',
      'CDS b refers to EDS b-endpoints, which the snapshot does not have',
      'LDS in refers to RDS r1, which the snapshot does not have',
    ]);
    assert.deepEqual(basicSnapshot().consistencyErrors(), []);
  });

  it('notifies watchers of a node, only that node, and stops after cancel', () => {
    const cache = new SnapshotCache();
    const seen: string[] = [];
    const cancel = cache.watch('n1', (s) => seen.push(`n1:${s.get(TypeUrl.Cluster)!.version}`));
    cache.watch('n2', () => seen.push('n2'));
    const s1 = basicSnapshot({ clusters: ['a'] });
    cache.setSnapshot('n1', s1);
    cancel();
    cache.setSnapshot('n1', basicSnapshot({ clusters: ['b'] }));
    assert.deepEqual(seen, [`n1:${s1.get(TypeUrl.Cluster)!.version}`]);
  });
});

function bytesOf(message: OutgoingMessage): Buffer {
  return message instanceof MessageParts ? message.join() : message;
}

/** A full collection (the test process runs without --expose-gc). */
function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
