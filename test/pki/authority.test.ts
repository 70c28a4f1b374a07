import { strict as assert } from 'node:assert';
import { chmodSync, cpSync, existsSync, writeFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { TrustAuthority } from '../../src/pki/authority';
import type { IssuedLeaf, MeshEndpoint, TrustBundleMaterial } from '../../src/pki/types';
import { capturingLogger, mutualTlsHandshake, nextEvent, tempDir } from './helpers';

const TD = 'example.org';
const nodeA: MeshEndpoint = { mesh: 'shop', kind: 'virtualNode', name: 'frontend', dnsNames: ['frontend.shop.local'] };
const nodeB: MeshEndpoint = { mesh: 'shop', kind: 'virtualNode', name: 'backend', dnsNames: ['backend.shop.local'] };

function pemCount(bundle: TrustBundleMaterial): number {
  return bundle.trustedCaPem.match(/BEGIN CERTIFICATE/g)?.length ?? 0;
}

function handshake(server: IssuedLeaf, client: IssuedLeaf, bundle: TrustBundleMaterial): ReturnType<typeof mutualTlsHandshake> {
  return mutualTlsHandshake(
    { cert: server.certificateChainPem, key: server.privateKeyPem, ca: bundle.trustedCaPem },
    { cert: client.certificateChainPem, key: client.privateKeyPem, ca: bundle.trustedCaPem },
    { servername: server.sans.dnsNames[0]! },
  );
}

describe('pki/authority', () => {
  let temp: ReturnType<typeof tempDir>;
  const opened: TrustAuthority[] = [];
  async function open(extra: { autoFinishGraceMs?: number } = {}): Promise<TrustAuthority> {
    const authority = await TrustAuthority.open({ stateDir: temp.dir, trustDomain: TD, ...extra });
    opened.push(authority);
    return authority;
  }
  beforeEach(() => { temp = tempDir('authority'); });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((authority) => authority.close()));
    temp.cleanup();
  });

  it('keeps its CA in <stateDir>/ca and reopens the same one', async () => {
    const first = await open();
    const second = await open();
    assert.equal(second.currentCa.id, first.currentCa.id);
    assert.equal(second.trustBundle().version, first.trustBundle().version);
    assert.equal(statSync(path.join(temp.dir, 'ca')).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(first.currentCa.dir, 'ca.key')).mode & 0o777, 0o600);
    assert.deepEqual(first.trustBundle().caSerials, [first.currentCa.serial]);
  });

  it('rolls over without downtime: both CAs trusted during, only the new one after', async () => {
    const authority = await open();
    const oldCaId = authority.currentCa.id;
    const before = authority.trustBundle();
    const oldA = await authority.issue(nodeA);
    const oldB = await authority.issue(nodeB);

    const bundleEvent = nextEvent<TrustBundleMaterial>(authority, 'trustBundle');
    const status = await authority.startRollover();
    const during = await bundleEvent;
    assert.equal(status.inProgress, true);
    assert.equal(status.previousCaId, oldCaId);
    assert.notEqual(status.currentCaId, oldCaId);
    assert.equal(status.dependentLeaves, 2);
    assert.equal(pemCount(during), 2);
    assert.notEqual(during.version, before.version);
    assert.deepEqual(during.caSerials, [authority.currentCa.serial, authority.previousCa!.serial]);
    await assert.rejects(authority.startRollover(), /already in progress/);

    const newA = await authority.issue(nodeA);
    const newB = await authority.issue(nodeB);
    assert.equal(newA.caId, authority.currentCa.id);
    // Old and new leaves interoperate in both directions under the combined bundle.
    for (const [server, client] of [[oldA, newB], [newA, oldB], [newA, newB], [oldA, oldB]] as const) {
      const result = await handshake(server, client, during);
      assert.equal(result.ok, true, `${server.caId} server, ${client.caId} client: ${result.error}`);
    }

    assert.equal(await authority.finishRollover(), false, 'old leaves are still served');
    authority.release(oldA.serial);
    assert.equal(authority.rolloverStatus().dependentLeaves, 1);
    authority.release(oldB.serial);
    const finishedEvent = nextEvent<TrustBundleMaterial>(authority, 'trustBundle');
    assert.equal(await authority.finishRollover(), true);
    const after = await finishedEvent;
    assert.equal(pemCount(after), 1);
    assert.deepEqual(after.caSerials, [authority.currentCa.serial]);
    assert.equal(authority.rolloverStatus().inProgress, false);
    assert.equal((await handshake(newA, newB, after)).ok, true);
    const stale = await handshake(newA, oldB, after);
    assert.equal(stale.ok, false, 'a leaf of the retired CA is no longer accepted');
    assert.ok(!existsSync(path.join(temp.dir, 'ca', 'ca-1')), 'the retired CA key is removed');
  });

  it('survives a restart in the middle of a rollover', async () => {
    const first = await open();
    await first.issue(nodeA, { ttlMs: 2000 });
    await first.startRollover();
    const during = first.trustBundle();
    await first.close();

    const second = await open();
    assert.equal(second.currentCa.id, first.currentCa.id);
    assert.equal(second.previousCa?.id, first.previousCa?.id);
    assert.equal(second.trustBundle().version, during.version);
    const status = second.rolloverStatus();
    assert.equal(status.inProgress, true);
    // Leaves issued before the restart cannot be tracked, so their latest possible expiry holds the old CA.
    assert.ok(status.untrackedLeavesValidUntil && status.untrackedLeavesValidUntil.getTime() > Date.now());
    assert.equal(await second.finishRollover(), false);
    assert.equal((await second.issue(nodeB)).caId, second.currentCa.id);
    assert.equal(await second.finishRollover({ force: true }), true);
    const third = await open();
    assert.equal(third.rolloverStatus().inProgress, false);
    assert.equal(third.currentCa.id, first.currentCa.id);
    assert.deepEqual(JSON.parse(readFileSync(path.join(temp.dir, 'ca', 'state.json'), 'utf8')), { current: 'ca-2' });
  });

  it('finishes by itself once no leaf depends on the previous CA (autoFinishGraceMs)', async () => {
    const { log, lines } = capturingLogger();
    const authority = await TrustAuthority.open({ stateDir: temp.dir, trustDomain: TD, autoFinishGraceMs: 50, log });
    opened.push(authority);
    const old = await authority.issue(nodeA);
    const finished = nextEvent<{ previousCaId: string }>(authority, 'rolloverFinished');
    await authority.startRollover();
    const replacement = await authority.issue(nodeA);
    assert.equal(authority.rolloverStatus().inProgress, true);
    authority.release(old.serial);
    const event = await finished;
    assert.notEqual(event.previousCaId, replacement.caId);
    assert.equal(pemCount(authority.trustBundle()), 1);
    assert.ok(lines.every((line) => !line.includes('PRIVATE KEY')));
  });

  it('follows a state.json another writer changed: a rollover started, then finished, with the same events', async () => {
    // `leader` rolls over in its own directory; `follower` gets copies of the files (as a replica
    // sharing the CA through etcd does) and follows them.
    const leader = await open();
    const followerDir = path.join(temp.dir, 'follower');
    cpSync(path.join(temp.dir, 'ca'), path.join(followerDir, 'ca'), { recursive: true });
    const follower = await TrustAuthority.open({ stateDir: followerDir, trustDomain: TD });
    opened.push(follower);
    assert.equal(await follower.followState(), false, 'nothing to follow yet');
    const old = await follower.issue(nodeA);
    await leader.startRollover();
    cpSync(path.join(temp.dir, 'ca'), path.join(followerDir, 'ca'), { recursive: true });
    const started = nextEvent<{ currentCaId: string }>(follower, 'rolloverStarted');
    const bundle = nextEvent<TrustBundleMaterial>(follower, 'trustBundle');
    assert.equal(await follower.followState(), true);
    assert.equal((await started).currentCaId, leader.currentCa.id);
    assert.equal((await bundle).version, leader.trustBundle().version, 'the same bundle as the writer');
    assert.equal(follower.rolloverStatus().dependentLeaves, 1, 'its own leaf from the previous CA is still tracked');
    const fresh = await follower.issue(nodeB);
    assert.equal(fresh.caId, leader.currentCa.id);
    assert.ok((await handshake(fresh, old, follower.trustBundle())).ok, 'leaves of both CAs verify during the rollover');
    assert.equal(await leader.finishRollover({ force: true }), true);
    writeFileSync(path.join(followerDir, 'ca', 'state.json'), readFileSync(path.join(temp.dir, 'ca', 'state.json')));
    const finished = nextEvent<{ previousCaId: string }>(follower, 'rolloverFinished');
    assert.equal(await follower.followState(), true);
    assert.equal((await finished).previousCaId, old.caId);
    assert.equal(follower.trustBundle().version, leader.trustBundle().version);
    assert.equal(existsSync(path.join(followerDir, 'ca', 'ca-1')), false, 'the retired key is removed');
    // A damaged state.json is refused and changes nothing.
    writeFileSync(path.join(followerDir, 'ca', 'state.json'), '{"current":7}');
    await assert.rejects(follower.followState(), /"current" must name a CA directory/);
    assert.equal(follower.currentCa.id, leader.currentCa.id);
  });

  describe('a damaged CA state is refused, never replaced', () => {
    it('refuses a missing state.json beside CA directories, naming the file and the recovery flags', async () => {
      const first = await open();
      await (await open()).startRollover();
      rmSync(path.join(temp.dir, 'ca', 'state.json'));
      await assert.rejects(open(), (err: Error) => {
        assert.ok(err.message.includes(path.join(temp.dir, 'ca', 'state.json')), err.message);
        assert.match(err.message, /ca-2, ca-1/);
        assert.match(err.message, /--adopt-ca/);
        return true;
      });
      assert.deepEqual(readdirSync(path.join(temp.dir, 'ca')).sort(), ['ca-1', 'ca-2']);
      assert.equal(readFileSync(path.join(first.currentCa.dir, 'ca.crt'), 'utf8'), first.currentCa.certificatePem);
    });

    it('refuses state.json naming a CA directory that holds none', async () => {
      await open();
      rmSync(path.join(temp.dir, 'ca', 'ca-1'), { recursive: true });
      await assert.rejects(open(), (err: Error) => err.message.includes('names ca-1 as the current CA') && err.message.includes('--new-ca'));
    });

    it('adopt: rebuilds state.json mid-rollover with both CAs trusted, the newer issuing', async () => {
      const authority = await open();
      const oldId = authority.currentCa.id;
      await authority.startRollover();
      const newId = authority.currentCa.id;
      rmSync(path.join(temp.dir, 'ca', 'state.json'));
      const adopted = await TrustAuthority.open({ stateDir: temp.dir, trustDomain: TD, recovery: 'adopt' });
      opened.push(adopted);
      assert.equal(adopted.origin, 'adopted');
      assert.equal(adopted.currentCa.id, newId);
      assert.equal(adopted.previousCa?.id, oldId);
      assert.deepEqual(JSON.parse(readFileSync(path.join(temp.dir, 'ca', 'state.json'), 'utf8')), { current: 'ca-2', previous: 'ca-1' });
    });

    it('new-ca: sets the damaged material aside and starts over; neither recovery touches intact state', async () => {
      const first = await open();
      const intact = await TrustAuthority.open({ stateDir: temp.dir, trustDomain: TD, recovery: 'new-ca' });
      opened.push(intact);
      assert.equal(intact.origin, 'loaded');
      assert.equal(intact.currentCa.id, first.currentCa.id);
      rmSync(path.join(first.currentCa.dir, 'ca.key'));
      const replaced = await TrustAuthority.open({ stateDir: temp.dir, trustDomain: TD, recovery: 'new-ca' });
      opened.push(replaced);
      assert.equal(replaced.origin, 'replaced');
      assert.notEqual(replaced.currentCa.id, first.currentCa.id);
      const aside = readdirSync(temp.dir).find((name) => name.startsWith('ca.replaced-'));
      assert.ok(aside && existsSync(path.join(temp.dir, aside, 'ca-1', 'ca.crt')));
    });

    it('a rollover never reuses a generation directory an interrupted rollover left behind', async () => {
      const authority = await open();
      mkdirSync(path.join(temp.dir, 'ca', 'ca-2'), { mode: 0o700 });
      const status = await authority.startRollover();
      assert.equal(status.currentCaId, authority.currentCa.id);
      assert.equal(path.basename(authority.currentCa.dir), 'ca-3');
    });

    it('narrows a CA directory open to others, with a warning', async () => {
      await open();
      chmodSync(path.join(temp.dir, 'ca'), 0o777);
      const { log, lines } = capturingLogger();
      opened.push(await TrustAuthority.open({ stateDir: temp.dir, trustDomain: TD, log }));
      assert.equal(statSync(path.join(temp.dir, 'ca')).mode & 0o777, 0o700);
      assert.ok(lines.some((line) => line.includes('"level":40') && line.includes('CA directory')), lines.join(''));
    });
  });
});
