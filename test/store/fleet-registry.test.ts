// The fleet registry and view on a real etcd: what a replica publishes reaches another client's
// view, writes stay bounded however many proxies change, a clean close removes the entries at
// once, and a replica that dies (its client gone, lease no longer renewed) disappears when its
// lease expires.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { Etcd3 } from 'etcd3';
import { bucketOf, checkReplicaName, FLEET_BUCKETS, FleetRegistry, type FleetProxy } from '../../src/store/fleet-registry';
import { FleetView } from '../../src/store/fleet-view';
import { useEtcd } from '../support/etcd';

function proxy(i: number, version = 'v1'): FleetProxy {
  return {
    nodeId: `mesh/bench/virtualNode/c${i}`, endpoint: `mesh/bench/virtualNode/c${i}`, since: '2026-01-01T00:00:00.000Z',
    streams: ['ADS/sotw'], types: { RDS: { state: 'synced', sent: version, acked: version } },
  };
}

describe('store/fleet-registry', function () {
  this.timeout(60_000);
  const fixture = useEtcd();
  let prefixCount = 0;
  let prefix: string;
  const clients: Etcd3[] = [];
  const closers: (() => Promise<void>)[] = [];

  function client(): Etcd3 {
    const made = new Etcd3({ hosts: `http://${fixture.etcd.endpoint}` });
    clients.push(made);
    return made;
  }

  beforeEach(() => { prefix = `/fleet-${++prefixCount}/`; });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    for (const made of clients.splice(0)) made.close();
  });

  async function startView(): Promise<FleetView> {
    const view = new FleetView(client(), prefix);
    await view.start();
    closers.push(() => view.close());
    return view;
  }

  /** Resolves once `done()` holds, checked after each change the view sees; rejects at the deadline. */
  function until(view: FleetView, done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (done()) { resolve(); return; }
      const timer = setTimeout(() => { stop(); reject(new Error(`not within ${timeoutMs} ms: ${what}`)); }, timeoutMs);
      const stop = view.onChange(() => {
        if (!done()) return;
        clearTimeout(timer);
        stop();
        resolve();
      });
    });
  }

  /** A replica in its own process, once registered. */
  async function startMember(name: string, ttlSeconds: number): Promise<ChildProcess> {
    const child = spawn(process.execPath, [path.join(__dirname, '../support/fleet-member.js'), fixture.etcd.endpoint, prefix, name, String(ttlSeconds)], { stdio: ['ignore', 'pipe', 'pipe'] });
    closers.push(async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('registered\n')) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', () => reject(new Error(`fleet member ${name} exited:\n${output}`)));
    });
    return child;
  }

  async function revision(etcd: Etcd3): Promise<bigint> {
    return BigInt((await etcd.get('/none').exec()).header.revision);
  }

  it('names a replica only with characters that fit one key segment', () => {
    assert.equal(checkReplicaName('meshd-a.eu_1'), 'meshd-a.eu_1');
    assert.throws(() => checkReplicaName('a/b'), /--replica-name "a\/b": use letters, digits/);
    assert.throws(() => checkReplicaName(''), /--replica-name/);
    assert.ok([...Array(100).keys()].every((i) => bucketOf(`n${i}`) < FLEET_BUCKETS));
  });

  it("publishes a replica and its proxies to another client's view, and follows changes", async () => {
    let proxies = [proxy(1), proxy(2)];
    const registry = new FleetRegistry({ client: client(), prefix, replica: { name: 'a', xds: ['127.0.0.1:1'], startedAt: 'now' }, proxies: () => proxies, flushIntervalMs: 100 });
    await registry.start();
    closers.push(() => registry.close());
    const view = await startView();
    assert.deepEqual(view.replicas().map((r) => [r.name, r.xds, r.proxies.map((p) => p.nodeId).sort()]), [['a', ['127.0.0.1:1'], [proxy(1).nodeId, proxy(2).nodeId]]]);
    proxies = [proxy(2, 'v2')];
    registry.changed();
    await until(view, () => view.replicas()[0]?.proxies.length === 1 && view.replicas()[0]?.proxies[0]?.types.RDS?.acked === 'v2', 'proxy 1 gone and proxy 2 at v2');
  });

  it('writes at most one key per bucket per flush, however many of 10,000 proxies change', async () => {
    const etcd = client();
    let version = 'v1';
    const proxies = (): FleetProxy[] => Array.from({ length: 10_000 }, (_, i) => proxy(i, version));
    const registry = new FleetRegistry({ client: etcd, prefix, replica: { name: 'big', xds: [], startedAt: 'now' }, proxies, flushIntervalMs: 200 });
    const before = await revision(etcd);
    await registry.start();
    closers.push(() => registry.close());
    const afterStart = await revision(etcd);
    assert.ok(afterStart - before <= BigInt(FLEET_BUCKETS + 1), `registering wrote ${afterStart - before} revisions`);
    const view = await startView();
    assert.equal(view.replicas()[0]?.proxies.length, 10_000);
    // Every proxy ACKs a new version, each reported as its own change.
    version = 'v2';
    for (let i = 0; i < 10_000; i++) registry.changed();
    await until(view, () => view.replicas()[0]!.proxies.every((p) => p.types.RDS?.acked === 'v2'), 'all 10,000 at v2');
    await registry.flushNow();
    const afterChange = await revision(etcd);
    assert.ok(afterChange - afterStart <= BigInt(FLEET_BUCKETS), `10,000 changes wrote ${afterChange - afterStart} revisions`);
    // Nothing changed: a flush writes nothing.
    registry.changed();
    await registry.flushNow();
    assert.equal(await revision(etcd), afterChange);
  });

  it('removes a replica at once when it closes, and a dead one when its lease expires', async () => {
    const view = await startView();
    const closing = new FleetRegistry({ client: client(), prefix, replica: { name: 'closing', xds: [], startedAt: 'now' }, proxies: () => [proxy(1)] });
    closers.push(() => closing.close());
    await closing.start();
    const dying = await startMember('dying', 2);
    await until(view, () => view.replicas().length === 2, 'both replicas seen');
    await closing.close();
    await until(view, () => view.replicas().map((r) => r.name).join() === 'dying', 'the closed replica gone before its 10 s lease could expire', 5000);
    // Killed: nothing revokes or renews its lease.
    process.kill(dying.pid!, 'SIGKILL');
    await until(view, () => view.replicas().length === 0, 'the dead replica gone after its lease expired');
    const left = await client().getAll().prefix(`${prefix}fleet/`).keys();
    assert.deepEqual(left, []);
  });

  it('skips entries that are not JSON or not the expected shape, and keeps the rest', async () => {
    const etcd = client();
    await etcd.put(`${prefix}fleet/x/info`).value('{not json');
    await etcd.put(`${prefix}fleet/y/info`).value(JSON.stringify({ name: 'y', xds: ['h:1'], startedAt: 'now' }));
    await etcd.put(`${prefix}fleet/y/proxies/00`).value(JSON.stringify([{ nodeId: 1 }]));
    const view = await startView();
    assert.deepEqual(view.replicas().map((r) => [r.name, r.proxies.length]), [['y', 0]]);
  });
});
