// A three-member etcd cluster losing one member keeps working for meshd's store: etcd keeps a
// quorum of two, and the client (given all three members in the store URL) moves its reads,
// writes and its watch to the members that are left. The member killed (SIGKILL, by PID) is the
// one carrying the store's watch, so the watch must really move.
import { strict as assert } from 'node:assert';
import { EtcdStore, parseStoreUrl } from '../../src/store';
import { etcdOrSkip, startEtcdCluster, type EtcdProcess } from '../support/etcd';

/** Watchers a member holds now, from its Prometheus metrics. */
async function watchersOn(member: EtcdProcess): Promise<number> {
  const text = await (await fetch(`http://${member.endpoint}/metrics`)).text();
  return Number(/^etcd_debugging_mvcc_watcher_total (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('store/etcd-cluster', function () {
  this.timeout(90_000);
  let members: EtcdProcess[] = [];
  let store: EtcdStore | undefined;

  before(async function () {
    members = await startEtcdCluster(etcdOrSkip(this), 3);
  });
  after(async () => {
    store?.close();
    await Promise.all(members.map((member) => member.stop()));
  });

  it('keeps reading, watching and writing when the member carrying the watch is killed', async () => {
    const url = `etcd://${members.map((m) => m.endpoint).join(',')}/cluster/`;
    store = new EtcdStore(parseStoreUrl(url), { requestTimeoutMs: 2_000 });
    const changes: number[] = [];
    let wake: (() => void) | undefined;
    const nextChange = (): Promise<void> => new Promise((resolve) => { wake = resolve; });
    const close = await store.watch(() => {
      changes.push(Date.now());
      wake?.();
    });
    try {
      let seen = nextChange();
      let revision = await store.compareAndPut('m.mesh.json', '{"n":0}', { absent: true });
      await seen;

      const counts = await Promise.all(members.map(watchersOn));
      const carrier = counts.findIndex((count) => count > 0);
      assert.ok(carrier >= 0, `one member carries the watch (watchers per member: ${counts.join(', ')})`);
      await members[carrier]!.halt('SIGKILL');
      const left = members.filter((_, n) => n !== carrier);

      // Each call picks a member at random, so twenty round trips try the dead one too.
      for (let n = 1; n <= 20; n++) {
        seen = nextChange();
        revision = await store.compareAndPut('m.mesh.json', `{"n":${n}}`, { revision });
        const entries = await store.readAll();
        assert.deepEqual(entries.map((e) => [e.key, e.text]), [['m.mesh.json', `{"n":${n}}`]]);
        if (n === 1) {
          // The watch comes back on another member and reports the write made meanwhile.
          await Promise.race([seen, new Promise((_, reject) => setTimeout(() => reject(new Error('the watch did not report a write within 15 s of the member loss')), 15_000))]);
        }
      }
      seen = nextChange();
      await store.delete('m.mesh.json', revision);
      await Promise.race([seen, new Promise((_, reject) => setTimeout(() => reject(new Error('the watch did not report the delete')), 10_000))]);
      assert.ok((await Promise.all(left.map(watchersOn))).some((count) => count > 0), 'a remaining member carries the watch now');
      assert.deepEqual(await store.readAll(), []);
    } finally {
      await close();
    }
  });
});
