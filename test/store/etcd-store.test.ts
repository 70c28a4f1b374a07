import { strict as assert } from 'node:assert';
import { EtcdStore, parseStoreUrl, StoreConflictError } from '../../src/store';
import { useEtcd } from '../support/etcd';

describe('store/etcd-store', function () {
  this.timeout(60_000);
  const fixture = useEtcd();
  let prefixCount = 0;
  let store: EtcdStore;
  let other: EtcdStore;

  // Each test gets its own prefix on the one etcd; `other` is a second client, as a second replica would be.
  beforeEach(() => {
    const target = { endpoints: [fixture.etcd.endpoint], prefix: `/test-${++prefixCount}/` };
    store = new EtcdStore(target);
    other = new EtcdStore(target);
  });
  afterEach(() => {
    store?.close();
    other?.close();
  });

  it('parses etcd://HOST:PORT[,HOST:PORT…]/PREFIX and names what is wrong', () => {
    assert.deepEqual(parseStoreUrl('etcd://10.0.0.1:2379,etcd-b:2379/meshd/prod/'), { endpoints: ['10.0.0.1:2379', 'etcd-b:2379'], prefix: '/meshd/prod/' });
    assert.throws(() => parseStoreUrl('etcd://10.0.0.1:2379'), /etcd:\/\/HOST:PORT/);
    assert.throws(() => parseStoreUrl('etcd://10.0.0.1:2379//'), /prefix after the hosts is empty/);
    assert.throws(() => parseStoreUrl('etcd://10.0.0.1/m'), /"10.0.0.1" is not HOST:PORT/);
  });

  it('reads every entry under its prefix in key order, and nothing beside it', async () => {
    await store.compareAndPut('b.yaml', 'kind: Mesh\nmeshName: b\n', { absent: true });
    const revision = await store.compareAndPut('a.json', '{"meshName":"a"}', { absent: true });
    const neighbour = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix: `/test-${prefixCount}-other/` });
    try {
      await neighbour.compareAndPut('c.json', '{}', { absent: true });
    } finally {
      neighbour.close();
    }
    const entries = await other.readAll();
    assert.deepEqual(entries.map((e) => e.key), ['a.json', 'b.yaml']);
    assert.deepEqual(entries[0], { key: 'a.json', text: '{"meshName":"a"}', revision });
  });

  it('creates only what is absent, and replaces only the revision it read', async () => {
    const first = await store.compareAndPut('m.mesh.json', '{"meshName":"m"}', { absent: true });
    await assert.rejects(other.compareAndPut('m.mesh.json', '{}', { absent: true }), StoreConflictError);
    const second = await store.compareAndPut('m.mesh.json', '{"meshName":"m","spec":{}}', { revision: first });
    assert.notEqual(second, first);
    await assert.rejects(other.compareAndPut('m.mesh.json', '{"lost":true}', { revision: first }), /changed since it was read/);
    assert.equal((await other.readAll())[0]?.text, '{"meshName":"m","spec":{}}');
    await assert.rejects(other.delete('m.mesh.json', first), /changed since it was read/);
    await other.delete('m.mesh.json', second);
    assert.deepEqual(await store.readAll(), []);
    await assert.rejects(store.compareAndPut('m.mesh.json', '{}', { revision: second }), /was removed since it was read/);
  });

  it('lets exactly one of two replicas writing the same revision win', async () => {
    const revision = await store.compareAndPut('m.mesh.json', '{"n":0}', { absent: true });
    const results = await Promise.allSettled([store, other].map((s, n) => s.compareAndPut('m.mesh.json', `{"n":${n + 1}}`, { revision })));
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  });

  it('gives each resource the same key as the directory store, and refuses keys that are not spec file names', async () => {
    assert.equal(store.keyFor({ kind: 'Route', meshName: 'app', parentName: 'r', name: 'x' }), 'app.virtualRouter.r.route.x.json');
    await assert.rejects(store.compareAndPut('../escape.json', '{}', { absent: true }), /not a spec file name/);
    await assert.rejects(store.compareAndPut('notes.txt', '{}', { absent: true }), /not a spec file name/);
  });

  it("tells a watcher about another replica's write and delete", async () => {
    let changes = 0;
    let changed!: () => void;
    let seen = new Promise<void>((resolve) => { changed = resolve; });
    const close = await store.watch(() => { changes++; changed(); });
    try {
      const revision = await other.compareAndPut('w.json', '{}', { absent: true });
      await seen;
      seen = new Promise<void>((resolve) => { changed = resolve; });
      await other.delete('w.json', revision);
      await seen;
      assert.equal(changes, 2);
    } finally {
      await close();
    }
  });

  it('fails a call to an unreachable etcd in time, naming the store', async () => {
    const gone = new EtcdStore({ endpoints: ['127.0.0.1:1'], prefix: '/x/' }, { requestTimeoutMs: 500 });
    try {
      await assert.rejects(gone.readAll(), /etcd store etcd:\/\/127\.0\.0\.1:1\/x\/: could not read the entries/);
    } finally {
      gone.close();
    }
  });
});
