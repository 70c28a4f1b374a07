// /ui, /view and /view/events on a real AdminServer over HTTP: the page's files come from meshd
// itself under a policy that allows nothing else, the view is pushed when it connects and after
// each change signal (bursts coalesced into one push), and a view that would carry a private key
// is withheld.
import { strict as assert } from 'node:assert';
import { AdminServer } from '../../src/admin/server';
import { MeshdMetrics } from '../../src/admin/metrics';
import { StreamRegistry } from '../../src/admin/stream-registry';
import { ViewChanges } from '../../src/admin/view-changes';
import type { MeshViewSources } from '../../src/admin/mesh-view';
import { SnapshotCache } from '../../src/cache/snapshot-cache';
import { baseMesh, model } from '../model/fixtures';
import { openViewEvents } from '../support/view-events';
import { PKCS8_LABEL, pemBlock } from '../support/pem';

function sources(overrides: Partial<MeshViewSources> = {}): MeshViewSources {
  const served = model(baseMesh());
  return {
    model: () => served,
    mesh: () => ({ revision: '1' }),
    proxies: () => [],
    certificate: () => undefined,
    trustBundle: () => ({ version: 'v1', caSerials: ['01'] }),
    rollover: () => ({ inProgress: false, currentCaId: 'ca-1', leaves: 0, moved: 0 }),
    ...overrides,
  };
}

describe('admin/view-stream', () => {
  let server: AdminServer;
  let changes: ViewChanges;
  let revision: number;

  async function start(viewSources: MeshViewSources): Promise<void> {
    changes = new ViewChanges();
    server = new AdminServer({ registry: new StreamRegistry(), metrics: new MeshdMetrics(), snapshots: new SnapshotCache(), view: { sources: viewSources, changes } });
    await server.start();
  }
  afterEach(async () => { await server?.close(); });

  it('serves the page and its scripts from meshd only, under a policy that allows nothing else', async () => {
    await start(sources());
    const page = await fetch(`${server.url}/ui`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'/);
    const html = await page.text();
    const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.deepEqual(references.filter((ref) => !ref.startsWith('/ui/') && ref !== 'data:,'), [], 'every asset is local');
    for (const ref of references.filter((r) => r.startsWith('/ui/'))) {
      const asset = await fetch(`${server.url}${ref}`);
      assert.equal(asset.status, 200, ref);
      assert.ok((await asset.text()).length > 100, ref);
    }
    assert.doesNotMatch(await (await fetch(`${server.url}/ui/app.js`)).text(), /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'the script names no other host');
  });

  it('answers /view with the model\'s paths', async () => {
    await start(sources());
    const view = await (await fetch(`${server.url}/view`)).json() as { revision: string; meshes: { edges: { id: string; posture: string }[] }[] };
    assert.equal(view.revision, '1');
    assert.deepEqual(view.meshes[0]!.edges.map((e) => e.posture), ['tls', 'tls']);
  });

  it('pushes the view on connect and after each change, coalescing a burst into one push', async () => {
    revision = 1;
    await start(sources({ mesh: () => ({ revision: String(revision) }) }));
    const events = await openViewEvents(server.url);
    try {
      await events.waitFor((view) => view.revision === '1', 'the first view');
      revision = 2;
      const signalled = Date.now();
      for (let i = 0; i < 50; i += 1) changes.signal('proxy');
      await events.waitFor((view) => view.revision === '2', 'revision 2');
      assert.ok(Date.now() - signalled < 2000, 'within two seconds');
      // The burst was one push: one more signal gives exactly one more view.
      const before = events.views.length;
      revision = 3;
      changes.signal('spec');
      await events.waitFor((view) => view.revision === '3', 'revision 3');
      assert.equal(events.views.length, before + 1);
      assert.equal(events.views.filter((view) => view.revision === '2').length, 1, 'fifty signals, one push');
    } finally {
      events.close();
    }
  });

  it('withholds a view that would carry a private key, and says why', async () => {
    await start(sources({ mesh: () => ({ revision: '1', lastRefused: { at: new Date(0).toISOString(), errors: [pemBlock(PKCS8_LABEL, 'MIG...')] } }) }));
    const body = await fetch(`${server.url}/view/events`);
    const reader = body.body!.getReader();
    let text = '';
    while (!text.includes('\n\nevent:') || !/event: \w+\nid: \d+\ndata: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    assert.match(text, /event: error\nid: 1\ndata: \{"error":"the mesh view would contain private key material; it was withheld"\}/);
    assert.ok(!text.includes(`BEGIN ${PKCS8_LABEL}`));
    assert.equal((await fetch(`${server.url}/view`)).status, 500);
  });

  it('has no page where meshd gives it no view', async () => {
    server = new AdminServer({ registry: new StreamRegistry(), metrics: new MeshdMetrics(), snapshots: new SnapshotCache() });
    await server.start();
    assert.equal((await fetch(`${server.url}/ui`)).status, 404);
    assert.equal((await fetch(`${server.url}/view`)).status, 404);
  });
});
