import { strict as assert } from 'node:assert';
import { PublishRefusedError, SnapshotPublisher } from '../../src/cache/publisher';
import { Snapshot } from '../../src/cache/snapshot';
import { SnapshotCache } from '../../src/cache/snapshot-cache';
import { TypeUrl } from '../../src/xds/type-urls';
import { basicSnapshot, edsCluster, loadAssignment } from '../support/fixtures';

const A = 'mesh/demo/virtualNode/a';
const B = 'mesh/demo/virtualNode/b';

/** A cluster Envoy would NACK: connect_timeout must be greater than 0 (PGV). */
function zeroTimeoutSnapshot(): Snapshot {
  return Snapshot.fromResources({
    [TypeUrl.Cluster]: [edsCluster('x', { connectTimeout: { seconds: 0 } })],
    [TypeUrl.ClusterLoadAssignment]: [loadAssignment('x', [{ address: '127.0.0.1', port: 9000 }])],
  });
}

describe('cache/publisher', () => {
  it('publishes a batch of good snapshots into the cache', () => {
    const cache = new SnapshotCache();
    new SnapshotPublisher(cache).publish([[A, basicSnapshot()], [B, basicSnapshot({ clusters: ['b'] })]]);
    assert.ok(cache.getSnapshot(A));
    assert.ok(cache.getSnapshot(B));
  });

  it('refuses the whole batch when one snapshot breaks a field constraint, naming node, resource and field', () => {
    const cache = new SnapshotCache();
    const publisher = new SnapshotPublisher(cache);
    assert.throws(() => publisher.publish([[A, basicSnapshot()], [B, zeroTimeoutSnapshot()]]), (err: unknown) => {
      assert.ok(err instanceof PublishRefusedError);
      assert.equal(err.problems.length, 1);
      assert.match(err.problems[0]!, /^mesh\/demo\/virtualNode\/b: CDS x: .*connect_timeout/);
      return true;
    });
    assert.equal(cache.getSnapshot(A), undefined, 'nothing of a refused batch is published');
  });

  it('refuses an inconsistent snapshot (a cluster without its endpoints)', () => {
    const publisher = new SnapshotPublisher(new SnapshotCache());
    const dangling = Snapshot.fromResources({ [TypeUrl.Cluster]: [edsCluster('x')] });
    assert.throws(() => publisher.check(A, dangling), /refers to EDS x/);
  });

  it('checks a snapshot served beside the cache with the same rules', () => {
    const publisher = new SnapshotPublisher(new SnapshotCache());
    const good = basicSnapshot();
    assert.equal(publisher.check(A, good), good);
    assert.throws(() => publisher.check(A, zeroTimeoutSnapshot()), PublishRefusedError);
  });
});
