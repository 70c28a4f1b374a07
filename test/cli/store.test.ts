import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EtcdStore } from '../../src/store';
import { useEtcd } from '../support/etcd';
import { COLORAPP } from '../support/meshd';
import { runCli } from '../support/run-cli';
import { startServe } from '../support/serve-process';

describe('cli: meshd store import/export and serve --store', function () {
  this.timeout(60_000);
  const fixture = useEtcd();
  let work: string;
  let prefixCount = 0;
  let url: string;
  let store: EtcdStore;

  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-store-cli-'));
    const prefix = `/cli-${++prefixCount}/`;
    url = `etcd://${fixture.etcd.endpoint}${prefix}`;
    store = new EtcdStore({ endpoints: [fixture.etcd.endpoint], prefix });
  });
  afterEach(() => {
    store?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('imports a directory (only what differs), prunes on request, and exports it back file for file', async () => {
    const first = await runCli(['store', 'import', COLORAPP, '--store', url]);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /5 created, 0 replaced, 0 unchanged$/m);
    const again = await runCli(['store', 'import', COLORAPP, '--store', url]);
    assert.match(again.stdout, /0 created, 0 replaced, 5 unchanged$/m);

    const edited = path.join(work, 'edited');
    fs.cpSync(COLORAPP, edited, { recursive: true });
    fs.writeFileSync(path.join(edited, 'front.yaml'), fs.readFileSync(path.join(edited, 'front.yaml'), 'utf8').replace('mode: STRICT', 'mode: PERMISSIVE'));
    fs.rmSync(path.join(edited, 'gateway.yaml'));
    const pruned = await runCli(['store', 'import', edited, '--store', url, '--prune']);
    assert.equal(pruned.code, 0, pruned.stdout + pruned.stderr);
    assert.match(pruned.stdout, /0 created, 1 replaced, 3 unchanged, 1 removed$/m);

    const exported = path.join(work, 'exported');
    const result = await runCli(['store', 'export', exported, '--store', url]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /4 file\(s\) written/);
    assert.deepEqual(fs.readdirSync(exported).sort(), fs.readdirSync(edited).sort());
    for (const name of fs.readdirSync(edited)) assert.equal(fs.readFileSync(path.join(exported, name), 'utf8'), fs.readFileSync(path.join(edited, name), 'utf8'), name);
  });

  it('refuses to import a directory that does not validate, writing nothing', async () => {
    const broken = path.join(work, 'broken');
    fs.cpSync(COLORAPP, broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'front.yaml'), fs.readFileSync(path.join(broken, 'front.yaml'), 'utf8').replace('mode: STRICT', 'mode: SOMETIMES'));
    const result = await runCli(['store', 'import', broken, '--store', url]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^front\.yaml: VirtualNode front: spec\.listeners\[0\]\.tls\.mode: must be STRICT, PERMISSIVE or DISABLED$/m);
    assert.match(result.stdout, /not imported into etcd:\/\//);
    assert.deepEqual(await store.readAll(), []);
  });

  it('names a malformed store URL', async () => {
    const result = await runCli(['store', 'export', work, '--store', 'etcd://nohost']);
    assert.equal(result.code, 2);
    assert.match(result.stdout, /--store etcd:\/\/nohost: expected etcd:\/\/HOST:PORT\[,HOST:PORT…\]\/PREFIX/);
  });

  it('serves the mesh of the store with serve --store, and wants exactly one of --config and --store', async () => {
    assert.equal((await runCli(['store', 'import', COLORAPP, '--store', url])).code, 0);
    const keyFile = path.join(work, 'store.key');
    assert.equal((await runCli(['store', 'keygen', keyFile])).code, 0);
    const serve = await startServe(work, path.join(work, 'state'), ['--store', url, '--store-key-file', keyFile]);
    try {
      assert.match(serve.stderr(), new RegExp(`serving 4 mesh endpoint\\(s\\) from ${url.replace(/[.]/g, '\\.')}; ADS on`));
    } finally {
      serve.child.kill('SIGTERM');
      await new Promise((resolve) => serve.child.once('exit', resolve));
    }
    assert.equal(serve.child.exitCode, 0, serve.stderr());
    const neither = await runCli(['serve', '--state-dir', path.join(work, 'state'), '--no-admin']);
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /give exactly one of --config DIR .* or --store/);
  });
});
