// `meshd serve --store … --store-key-file …` as real processes: the key file is required and a
// missing one is refused (naming the file) before anything is written; `meshd store keygen`
// makes one; and when the leader replica is killed with SIGKILL mid-rollover, its lease expires
// and another replica finishes the rollover for all.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EtcdStore, importDirectory } from '../../src/store';
import { useEtcd } from '../support/etcd';
import { COLORAPP } from '../support/meshd';
import { runCli } from '../support/run-cli';
import { startServe, type ServeProcess } from '../support/serve-process';

const LEADS = /this replica leads the time-driven CA work/;

describe('cli: meshd serve --store with --store-key-file (replicas)', function () {
  this.timeout(90_000);
  const fixture = useEtcd();
  let work: string;
  let url: string;
  let keyFile: string;
  let prefixCount = 0;
  const serves: ServeProcess[] = [];

  beforeEach(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-replicas-cli-'));
    const prefix = `/replicas-cli-${++prefixCount}/`;
    url = `etcd://${fixture.etcd.endpoint}${prefix}`;
    const seed = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix });
    try {
      await importDirectory(seed, COLORAPP);
    } finally {
      seed.close();
    }
    keyFile = path.join(work, 'store.key');
    const made = await runCli(['store', 'keygen', keyFile]);
    assert.equal(made.code, 0, made.stderr);
  });
  afterEach(() => {
    for (const serve of serves.splice(0)) serve.kill();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('makes a key with store keygen and never replaces it', async () => {
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    const again = await runCli(['store', 'keygen', keyFile]);
    assert.equal(again.code, 1);
    assert.match(again.stdout, /already exists/);
  });

  it('refuses --store without --store-key-file, and a missing key file, naming it, with nothing written', async () => {
    const stateDir = path.join(work, 'state');
    const without = await runCli(['serve', '--store', url, '--state-dir', stateDir, '--no-admin']);
    assert.equal(without.code, 2);
    assert.match(without.stderr, /--store needs --store-key-file FILE.*meshd store keygen FILE/);
    const missing = path.join(work, 'absent.key');
    const refused = await runCli(['serve', '--store', url, '--store-key-file', missing, '--state-dir', stateDir, '--no-admin']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`--store-key-file ${missing.replace(/[.]/g, '\\.')}: no such file; create one with \`meshd store keygen`));
    const malformed = path.join(work, 'malformed.key');
    fs.writeFileSync(malformed, 'not a key\n', { mode: 0o600 });
    const bad = await runCli(['serve', '--store', url, '--store-key-file', malformed, '--state-dir', stateDir, '--no-admin']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /malformed\.key: not a key-encryption key/);
    assert.equal(fs.existsSync(stateDir), false, 'no state directory was made');
  });

  it('finishes a rollover on another replica when the leader is killed', async () => {
    const start = async (name: string): Promise<ServeProcess> => {
      const serve = await startServe(work, path.join(work, name), ['--store', url, '--store-key-file', keyFile, '--store-lease-ttl', '1'], { MESHD_LOG_LEVEL: 'info' });
      serves.push(serve);
      return serve;
    };
    const replicas = [await start('a'), await start('b'), await start('c')];
    // Exactly one leads; wait for it to say so.
    const leader = await Promise.any(replicas.map((serve) => serve.waitFor(LEADS).then(() => serve)));
    const others = replicas.filter((serve) => serve !== leader);
    const started = await runCli(['ca', 'rollover', '--admin', others[0]!.admin]);
    assert.equal(started.code, 0, started.stdout + started.stderr);
    assert.match(started.stdout, /CA rollover started/);
    leader.child.kill('SIGKILL');
    await new Promise((resolve) => leader.child.once('exit', resolve));
    // The leader died before its grace ran out: a survivor is elected once its lease expires,
    // and finishes; every survivor drops the previous CA.
    const finisher = await Promise.any(others.map((serve) => serve.waitFor(/finishing the CA rollover/, 40_000).then(() => serve)));
    assert.match(finisher.stderr(), LEADS);
    for (const serve of others) {
      await serve.waitFor(/"dropped":\["[0-9a-f]{16}"\][^\n]*following the shared CA state/, 20_000);
      const view = (await (await fetch(new URL('/view', serve.admin))).json()) as { rollover: { inProgress: boolean } };
      assert.equal(view.rollover.inProgress, false);
    }
    assert.doesNotMatch(leader.stderr(), /finishing the CA rollover/, 'the killed leader did not finish it');
  });
});
