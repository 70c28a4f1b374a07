// Fleet membership wired into Meshd: two in-process replicas on one etcd register with the
// addresses they really bound, each sees the other's proxies (with the replica serving them) on
// its admin /status, and a replica that stops cleanly leaves the other's view at once.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { StatusDocument } from '../../src/admin/server';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { Meshd } from '../../src/runtime/meshd';
import { EtcdStore, importDirectory } from '../../src/store';
import { TypeUrl } from '../../src/xds/type-urls';
import { useEtcd } from '../support/etcd';
import { COLORAPP } from '../support/meshd';
import { XdsTestClient } from '../support/xds-client';

const FRONT = 'mesh/colorapp/virtualNode/front';

describe('runtime/fleet', function () {
  this.timeout(60_000);
  const fixture = useEtcd();
  let work: string;
  const prefix = '/fleet-runtime/';
  const running: { meshd: Meshd; store: EtcdStore }[] = [];
  const clients: XdsTestClient[] = [];

  before(async function () {
    if (!fixture.etcd) this.skip();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-fleet-runtime-'));
    const seed = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix });
    try {
      await importDirectory(seed, COLORAPP);
    } finally {
      seed.close();
    }
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const { meshd, store } of running.splice(0)) {
      await meshd.stop();
      store.close();
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  async function startReplica(name: string, stateFrom?: Meshd): Promise<Meshd> {
    const store = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix });
    const stateDir = path.join(work, name, 'state');
    if (stateFrom) fs.cpSync(stateFrom.options.stateDir, stateDir, { recursive: true });
    const meshd = await Meshd.start({
      configDir: path.join(work, name, 'unused'), store, xds: ['127.0.0.1:0'], sdsSocket: path.join(work, name, 'sds.sock'),
      stateDir, trustDomain: 'meshd.local', admin: '127.0.0.1:0', fleet: { ...store.shared, replicaName: name, flushIntervalMs: 100 },
    });
    running.push({ meshd, store });
    return meshd;
  }

  async function fleetOn(meshd: Meshd, done: (doc: StatusDocument) => boolean, timeoutMs = 10_000): Promise<StatusDocument> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const doc = (await (await fetch(`${meshd.adminServer!.url}/status`)).json()) as StatusDocument;
      if (done(doc)) return doc;
      if (Date.now() > deadline) throw new Error(`fleet never as expected: ${JSON.stringify(doc.fleet)}`);
      // The other replica's writes reach this one through an etcd watch; poll its /status until then.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('shows each replica the other and the proxies it serves, and drops a stopped replica at once', async () => {
    const a = await startReplica('a');
    const b = await startReplica('b', a);
    const client = new XdsTestClient(b.xdsAddresses[0]!);
    clients.push(client);
    const metadata = new grpc.Metadata();
    metadata.set(CREDENTIAL_HEADER, b.credentials.tokenFor(FRONT));
    const stream = client.sotw('ads', metadata);
    stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Listener });
    stream.ack(await stream.next());

    const doc = await fleetOn(a, (seen) => seen.fleet?.proxies.some((p) => p.nodeId === FRONT && p.types.LDS?.state === 'synced') ?? false);
    assert.deepEqual(doc.fleet!.replicas.map((r) => [r.name, r.self, r.xds, r.admin, r.proxies]), [
      ['a', true, a.xdsAddresses, a.adminServer!.url, 0],
      ['b', false, b.xdsAddresses, b.adminServer!.url, 1],
    ]);
    assert.deepEqual(doc.fleet!.proxies.map((p) => [p.nodeId, p.replica, p.streams]), [[FRONT, 'b', ['ADS/sotw']]]);
    const onB = (await (await fetch(`${b.adminServer!.url}/status`)).json()) as StatusDocument;
    assert.equal(onB.fleet!.replica, 'b');
    assert.deepEqual(onB.proxies.map((p) => p.nodeId), [FRONT], "b's own proxies stay in `proxies`");

    const index = running.findIndex((r) => r.meshd === b);
    const [stopped] = running.splice(index, 1);
    await stopped!.meshd.stop();
    stopped!.store.close();
    // Revoked on stop: gone from a's view before its 10 s lease could have expired.
    await fleetOn(a, (seen) => seen.fleet!.replicas.length === 1 && seen.fleet!.proxies.length === 0, 5000);
  });
});
