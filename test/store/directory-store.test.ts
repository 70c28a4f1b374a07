import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DirectoryStore, revisionOf, StoreConflictError } from '../../src/store';

describe('store/directory-store', () => {
  let dir: string;
  let store: DirectoryStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-store-'));
    store = new DirectoryStore(dir);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads every spec file in key order, with a content revision, and nothing else', async () => {
    fs.writeFileSync(path.join(dir, 'b.yaml'), 'kind: Mesh\nmeshName: b\n');
    fs.writeFileSync(path.join(dir, 'a.json'), '{"meshName":"a"}');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a spec');
    fs.writeFileSync(path.join(dir, '.a.json.123.tmp'), 'half written');
    const entries = await store.readAll();
    assert.deepEqual(entries.map((e) => e.key), ['a.json', 'b.yaml']);
    assert.equal(entries[0]!.revision, revisionOf('{"meshName":"a"}'));
  });

  it('creates only what is absent, and replaces only the revision it read', async () => {
    const first = await store.compareAndPut('m.mesh.json', '{"meshName":"m"}', { absent: true });
    await assert.rejects(store.compareAndPut('m.mesh.json', '{}', { absent: true }), StoreConflictError);
    const second = await store.compareAndPut('m.mesh.json', '{"meshName":"m","spec":{}}', { revision: first });
    await assert.rejects(store.compareAndPut('m.mesh.json', '{"lost":true}', { revision: first }), /changed since it was read/);
    assert.equal(fs.readFileSync(path.join(dir, 'm.mesh.json'), 'utf8'), '{"meshName":"m","spec":{}}');
    assert.equal(fs.statSync(path.join(dir, 'm.mesh.json')).mode & 0o777, 0o644);
    await store.delete('m.mesh.json', second);
    assert.deepEqual(fs.readdirSync(dir), [], 'no temporary file is left behind');
  });

  it('refuses a write or delete over a hand edit made after the read', async () => {
    const revision = await store.compareAndPut('m.mesh.json', '{"meshName":"m"}', { absent: true });
    fs.writeFileSync(path.join(dir, 'm.mesh.json'), '{"meshName":"m","spec":{"egressFilter":{"type":"DROP_ALL"}}}');
    await assert.rejects(store.compareAndPut('m.mesh.json', '{"meshName":"m"}', { revision }), StoreConflictError);
    await assert.rejects(store.delete('m.mesh.json', revision), StoreConflictError);
    assert.match(fs.readFileSync(path.join(dir, 'm.mesh.json'), 'utf8'), /DROP_ALL/, 'the hand edit is kept');
  });

  it('lets exactly one of two concurrent writers of the same revision win', async () => {
    const revision = await store.compareAndPut('m.mesh.json', '{"n":0}', { absent: true });
    const results = await Promise.allSettled([1, 2].map((n) => store.compareAndPut('m.mesh.json', `{"n":${n}}`, { revision })));
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  });

  it('gives each resource one stable file name, escaping what could be ambiguous', () => {
    assert.equal(store.keyFor({ kind: 'Mesh', meshName: 'app', name: 'app' }), 'app.mesh.json');
    assert.equal(store.keyFor({ kind: 'VirtualNode', meshName: 'app', name: 'front' }), 'app.virtualNode.front.json');
    assert.equal(store.keyFor({ kind: 'Route', meshName: 'app', parentName: 'r', name: 'x' }), 'app.virtualRouter.r.route.x.json');
    assert.equal(store.keyFor({ kind: 'GatewayRoute', meshName: 'app', parentName: 'gw', name: 'x' }), 'app.virtualGateway.gw.gatewayRoute.x.json');
    assert.equal(store.keyFor({ kind: 'VirtualService', meshName: 'app', name: 'a.b/c' }), 'app.virtualService.a%2Eb%2Fc.json');
    const long = store.keyFor({ kind: 'VirtualNode', meshName: 'app', name: 'n'.repeat(255) });
    assert.ok(long.length < 120 && long.endsWith('.json'), long);
  });

  it('refuses keys outside the directory', async () => {
    await assert.rejects(store.compareAndPut('../escape.json', '{}', { absent: true }), /not a spec file name/);
  });

  it('tells a watcher about a hand edit', async () => {
    let changed!: () => void;
    const seen = new Promise<void>((resolve) => { changed = resolve; });
    const close = await store.watch(() => changed());
    try {
      fs.writeFileSync(path.join(dir, 'hand.yaml'), 'kind: Mesh\nmeshName: h\n');
      await seen;
    } finally {
      await close();
    }
  });
});
