// Replicas sharing the CA and the node-credential key through a real etcd: in-process meshd
// replicas, each with its own empty state directory, on one key prefix. One CA for all (also when
// they race to create it), the same bundle and credentials on every replica's SDS, leaves that
// verify across replicas in a real TLS handshake, nothing private in etcd in the clear, a wrong
// key-encryption key refused before anything is written, and rollovers started on one replica
// (or on two at once) followed by every replica and finished by the leader.
import { strict as assert } from 'node:assert';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Meshd } from '../../src/runtime/meshd';
import { openStateDirectory } from '../../src/runtime/state-directory';
import { SharedStateConflictError } from '../../src/runtime/shared-state';
import { EtcdStore, importDirectory } from '../../src/store';
import { runAdminAction } from '../../src/cli/admin-action';
import { useEtcd } from '../support/etcd';
import { COLORAPP } from '../support/meshd';
import { mtlsConnect, SdsProxy, startMtlsServer } from '../support/sds-proxy';

const FRONT = 'mesh/colorapp/virtualNode/front';
const BLUE = 'mesh/colorapp/virtualNode/color-blue';

interface Replica {
  name: string;
  meshd: Meshd;
  store: EtcdStore;
}

function certificatesIn(bundlePem: string): X509Certificate[] {
  return (bundlePem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem));
}

describe('runtime/shared-state (replicas on etcd)', function () {
  this.timeout(60_000);
  const fixture = useEtcd();
  let work: string;
  let prefix: string;
  let prefixCount = 0;
  let storeKey: Buffer;
  let storeKeyFile: string;
  const replicas: Replica[] = [];
  const proxies: SdsProxy[] = [];

  beforeEach(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-shared-'));
    prefix = `/shared-${++prefixCount}/`;
    storeKey = randomBytes(32);
    storeKeyFile = path.join(work, 'store.key');
    fs.writeFileSync(storeKeyFile, storeKey.toString('base64'), { mode: 0o600 });
    const seed = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix });
    try {
      await importDirectory(seed, COLORAPP);
    } finally {
      seed.close();
    }
  });
  afterEach(async () => {
    for (const proxy of proxies.splice(0)) proxy.close();
    await Promise.all(replicas.splice(0).map(async (replica) => {
      await replica.meshd.stop();
      replica.store.close();
    }));
    fs.rmSync(work, { recursive: true, force: true });
  });

  function stateDirOf(name: string): string {
    return path.join(work, name, 'state');
  }

  async function startReplica(name: string, options: { key?: Buffer; keyFile?: string; graceMs?: number } = {}): Promise<Replica> {
    const store = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix });
    try {
      const meshd = await Meshd.start({
        configDir: path.join(work, name, 'unused'),
        store,
        // Checks every 100 ms: well inside the 1 s before leaves move to a new CA, so a leader that
        // did not wait for them would finish too early and the order checked below would break.
        shared: { store, storeKey: options.key ?? storeKey, storeKeyFile: options.keyFile ?? storeKeyFile, leaseTtlSeconds: 1, checkIntervalMs: 100 },
        xds: ['127.0.0.1:0'],
        admin: '127.0.0.1:0',
        sdsSocket: path.join(work, name, 'sds.sock'),
        stateDir: stateDirOf(name),
        trustDomain: 'meshd.local',
        rolloverGraceMs: options.graceMs ?? 300,
      });
      const replica = { name, meshd, store };
      replicas.push(replica);
      return replica;
    } catch (err) {
      store.close();
      throw err;
    }
  }

  function sds(replica: Replica, node: string, tokenFrom: Replica = replica): SdsProxy {
    const proxy = new SdsProxy(replica.meshd.options.sdsSocket, node, tokenFrom.meshd.credentials.tokenFor(node));
    proxies.push(proxy);
    return proxy;
  }

  async function etcdValues(): Promise<Map<string, Buffer>> {
    const store = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix });
    try {
      const response = await store.shared.client.getAll().prefix(prefix).exec();
      return new Map(response.kvs.map((kv) => [kv.key.toString('utf8'), kv.value]));
    } finally {
      store.close();
    }
  }

  /** A handshake both ways: `client`'s leaf checked against `server`'s bundle and the reverse. */
  async function handshake(client: SdsProxy, server: SdsProxy): Promise<void> {
    const listening = await startMtlsServer(server);
    try {
      const material = client.material!;
      const serial = await mtlsConnect(listening.port, { cert: material.certificateChainPem, key: material.privateKeyPem, ca: material.trustedCaPem });
      assert.equal(serial, server.material!.serial);
    } finally {
      listening.server.close();
    }
  }

  it('gives three replicas racing to start with empty state directories one CA and one node-credential key', async () => {
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => startReplica(name)));
    const caIds = [a!, b!, c!].map((replica) => replica.meshd.authority.currentCa.id);
    assert.deepEqual(new Set(caIds).size, 1, `one CA for all: ${caIds.join(', ')}`);
    const generations = [...(await etcdValues()).keys()].filter((key) => key.startsWith(`${prefix}ca/`)).sort();
    assert.deepEqual(generations, [`${prefix}ca/ca-1/ca.crt`, `${prefix}ca/ca-1/ca.key`, `${prefix}ca/state`]);
    assert.equal(b!.meshd.credentials.tokenFor(FRONT), a!.meshd.credentials.tokenFor(FRONT), 'the same node credential on every replica');
    for (const replica of [a!, b!, c!]) {
      assert.equal(fs.statSync(path.join(stateDirOf(replica.name), 'ca', 'ca-1', 'ca.key')).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.join(stateDirOf(replica.name), 'node-credential.key')).mode & 0o777, 0o600);
    }
    // A bootstrap printed from replica a (its token) is accepted by the SDS of b and c.
    const onA = sds(a!, FRONT);
    const onB = sds(b!, BLUE, a!);
    const onC = sds(c!, FRONT, a!);
    const [materialA, materialB, materialC] = await Promise.all([onA.until(() => true), onB.until(() => true), onC.until(() => true)]);
    assert.equal(materialB.trustedCaPem, materialA.trustedCaPem, 'the same trust bundle on every replica');
    assert.equal(materialC.trustedCaPem, materialA.trustedCaPem);
    await handshake(onA, onB);
    await handshake(onB, onC);
  });

  it('keeps no private key in etcd in the clear', async () => {
    const a = await startReplica('a');
    await startReplica('b');
    const caKeyDer = createPrivateKey(fs.readFileSync(path.join(stateDirOf('a'), 'ca', 'ca-1', 'ca.key'))).export({ format: 'der', type: 'pkcs8' });
    const nodeKeyText = fs.readFileSync(path.join(stateDirOf('a'), 'node-credential.key'), 'utf8').trim();
    const secrets = [caKeyDer, Buffer.from(caKeyDer.toString('base64')), Buffer.from(nodeKeyText), Buffer.from(nodeKeyText, 'base64')];
    const values = await etcdValues();
    assert.ok(values.has(`${prefix}secrets/node-credential.key`) && values.has(`${prefix}ca/ca-1/ca.key`));
    for (const [key, value] of values) {
      assert.ok(!/PRIVATE KEY-----/.test(value.toString('latin1')), `${key} holds PEM key armour`);
      for (const secret of secrets) assert.ok(!value.includes(secret), `${key} holds private key bytes`);
    }
    assert.ok(a.meshd.authority.currentCa.certificatePem, 'the certificate itself is public');
  });

  it('refuses a key-encryption key that is not the one the material was sealed with, naming the file, and writes nothing', async () => {
    const a = await startReplica('a');
    // Replica a's own live keys (its election entry and rollover report) come and change as they will.
    const withoutA = async (): Promise<Map<string, Buffer>> => new Map([...(await etcdValues())]
      .filter(([key, value]) => !key.endsWith(a.meshd.shared!.leader.replicaId) && value.toString() !== a.meshd.shared!.leader.replicaId));
    const before = await withoutA();
    const otherFile = path.join(work, 'other.key');
    await assert.rejects(startReplica('b', { key: randomBytes(32), keyFile: otherFile }), (err: Error) => {
      assert.match(err.message, new RegExp(`--store-key-file ${otherFile.replace(/[.]/g, '\\.')}: not the key the material in etcd://`));
      return true;
    });
    assert.equal(fs.existsSync(stateDirOf('b')), false, 'nothing written locally');
    assert.deepEqual(await withoutA(), before, 'nothing written to etcd');
  });

  it('carries a rollover started on b to the proxies on a and c, and the leader finishes it', async () => {
    const [a, b, c] = [await startReplica('a'), await startReplica('b'), await startReplica('c')];
    const first = a.meshd.authority.currentCa;
    const onA = sds(a, FRONT);
    const onC = sds(c, BLUE);
    await Promise.all([onA.until(() => true), onC.until(() => true)]);
    const started = await runAdminAction({ adminUrl: b.meshd.adminServer!.url, path: '/ca/rollover' });
    assert.equal(started.exitCode, 0, started.output);
    const next = b.meshd.authority.currentCa;
    assert.notEqual(next.id, first.id);
    for (const proxy of [onA, onC]) {
      // The bundle trusts both CAs, then the leaf comes from the new one, then the old CA leaves.
      await proxy.until((m) => certificatesIn(m.trustedCaPem).length === 2);
      await proxy.until((m) => new X509Certificate(m.certificateChainPem).checkIssued(new X509Certificate(next.certificatePem)));
    }
    const nextCa = new X509Certificate(next.certificatePem);
    for (const proxy of [onA, onC]) {
      const material = await proxy.until((m) => certificatesIn(m.trustedCaPem).length === 1, 20_000);
      assert.equal(certificatesIn(material.trustedCaPem)[0]!.fingerprint256, nextCa.fingerprint256, 'the new CA stays');
      // The leader's rule: the old CA left the bundle only after this proxy's leaf had moved.
      const leafMoved = proxy.received.findIndex((secret) => {
        const chain = secret.tlsCertificate?.certificateChain?.inlineString;
        return chain !== undefined && new X509Certificate(chain).checkIssued(nextCa);
      });
      const bundleShrank = proxy.received.findIndex((secret) => {
        const bundle = secret.validationContext?.trustedCa?.inlineString;
        return bundle !== undefined && certificatesIn(bundle).length === 1 && certificatesIn(bundle)[0]!.fingerprint256 === nextCa.fingerprint256;
      });
      assert.ok(leafMoved >= 0 && leafMoved < bundleShrank, `${proxy.nodeId}: leaf moved (#${leafMoved}) before the old CA left the bundle (#${bundleShrank})`);
    }
    for (const replica of [a, b, c]) {
      // A replica ends its rollover (status first, then the retired key's directory, then the
      // event); the proxies on a and c may see the new bundle before b has got that far.
      const retiredDir = path.join(stateDirOf(replica.name), 'ca', 'ca-1');
      if (replica.meshd.authority.rolloverStatus().inProgress || fs.existsSync(retiredDir)) await once(replica.meshd.authority, 'rolloverFinished');
      assert.equal(replica.meshd.authority.rolloverStatus().inProgress, false, `${replica.name} followed the finish`);
      assert.equal(fs.existsSync(retiredDir), false, `${replica.name} removed the retired CA key`);
    }
    assert.equal([...(await etcdValues()).keys()].some((key) => key.startsWith(`${prefix}ca/ca-1/`)), false, 'the retired CA left etcd');
    assert.equal(replicas.filter((replica) => replica.meshd.shared!.leader.isLeader).length, 1, 'one leader');
    await handshake(onA, onC);
  });

  it('lets exactly one of two replicas racing to start a rollover win; the other follows and says so', async () => {
    const [a, b] = [await startReplica('a', { graceMs: 60_000 }), await startReplica('b', { graceMs: 60_000 })];
    const first = a.meshd.authority.currentCa.id;
    const results = await Promise.allSettled([a.meshd.shared!.state.startRollover(), b.meshd.shared!.state.startRollover()]);
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    assert.equal(won.length, 1, 'exactly one wins');
    assert.ok(lost[0]!.reason instanceof SharedStateConflictError, String(lost[0]!.reason));
    assert.match((lost[0]!.reason as Error).message, /another replica started a CA rollover first|already in progress/);
    assert.equal(b.meshd.authority.currentCa.id, a.meshd.authority.currentCa.id, 'both issue from the winner\'s CA');
    assert.notEqual(a.meshd.authority.currentCa.id, first);
    assert.equal(a.meshd.authority.previousCa?.id, first);
    assert.equal(b.meshd.authority.previousCa?.id, first);
    const generations = new Set([...(await etcdValues()).keys()].filter((key) => /\/ca\/ca-\d+\//.test(key)).map((key) => key.split('/')[3]));
    assert.deepEqual([...generations].sort(), ['ca-1', 'ca-2'], 'one new generation');
    // Through the admin endpoint, a second start is refused (409) while this one runs.
    const again = await runAdminAction({ adminUrl: b.meshd.adminServer!.url, path: '/ca/rollover' });
    assert.equal(again.exitCode, 1);
    assert.match(again.output, /409.*already in progress/);
  });
  it("stores a single meshd's own CA as the first replica's; a replica holding another CA sets it aside and uses the shared one", async () => {
    const own = await openStateDirectory({ stateDir: stateDirOf('a'), trustDomain: 'meshd.local' });
    const ownCaId = own.authority.currentCa.id;
    const ownToken = own.credentials.tokenFor(FRONT);
    await own.authority.close();
    const other = await openStateDirectory({ stateDir: stateDirOf('b'), trustDomain: 'meshd.local' });
    const otherCaId = other.authority.currentCa.id;
    await other.authority.close();
    const a = await startReplica('a');
    assert.equal(a.meshd.authority.currentCa.id, ownCaId, 'the first replica keeps the CA its proxies trust');
    assert.equal(a.meshd.credentials.tokenFor(FRONT), ownToken, 'and its node credentials');
    const b = await startReplica('b');
    assert.equal(b.meshd.authority.currentCa.id, ownCaId);
    assert.equal(b.meshd.credentials.tokenFor(FRONT), ownToken);
    const setAside = fs.readdirSync(stateDirOf('b')).filter((name) => name.includes('.replaced-')).sort();
    assert.equal(setAside.length, 2, `b's own CA and node key were set aside: ${setAside.join(', ')}`);
    assert.ok(setAside[0]!.startsWith('ca.replaced-') && setAside[1]!.startsWith('node-credential.key.replaced-'));
    const keptCa = new X509Certificate(fs.readFileSync(path.join(stateDirOf('b'), setAside[0]!, 'ca-1', 'ca.crt')));
    assert.ok(keptCa.fingerprint256.replace(/:/g, '').toLowerCase().startsWith(otherCaId), 'the set-aside CA is the one b had');
  });

  it('gives a replica that joins or restarts during a rollover both CAs, and the finish reaches every replica', async () => {
    const a = await startReplica('a', { graceMs: 60_000 });
    const first = a.meshd.authority.currentCa.id;
    await a.meshd.shared!.state.startRollover();
    const b = await startReplica('b', { graceMs: 60_000 });
    assert.equal(b.meshd.authority.currentCa.id, a.meshd.authority.currentCa.id);
    assert.equal(b.meshd.authority.previousCa?.id, first, 'the joining replica trusts the previous CA too');
    const onB = sds(b, FRONT);
    const material = await onB.until((m) => certificatesIn(m.trustedCaPem).length === 2);
    assert.ok(new X509Certificate(material.certificateChainPem).checkIssued(new X509Certificate(b.meshd.authority.currentCa.certificatePem)), 'its leaves come from the new CA');
    // Restarting b keeps its state directory: it loads what it has, sets nothing aside.
    const index = replicas.indexOf(b);
    onB.close();
    await b.meshd.stop();
    b.store.close();
    replicas.splice(index, 1);
    const again = await startReplica('b', { graceMs: 60_000 });
    assert.equal(again.meshd.authority.previousCa?.id, first);
    assert.deepEqual(fs.readdirSync(stateDirOf('b')).filter((name) => name.includes('.replaced-')), []);
    const followed = once(a.meshd.authority, 'rolloverFinished');
    assert.equal(await again.meshd.shared!.state.finishRollover(), true);
    await followed;
    assert.equal(a.meshd.authority.rolloverStatus().inProgress, false, 'replica a followed the finish');
    assert.equal(again.meshd.authority.previousCa, undefined);
  });
});

