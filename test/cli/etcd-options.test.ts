// The --etcd-* flags against real etcd processes: one serving clients over TLS with client
// certificate auth, one with etcd's user/password auth enabled. The right credentials read and
// write; a wrong CA, a missing client certificate, a wrong password fail naming the store.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Etcd3 } from 'etcd3';
import { etcdClientOf } from '../../src/cli/etcd-options';
import { runStoreExport, runStoreImport } from '../../src/cli/store';
import { etcdOrSkip, startEtcd, type EtcdProcess } from '../support/etcd';
import { makeEtcdTls, type EtcdTlsFiles } from '../support/etcd-tls';
import { COLORAPP } from '../support/meshd';
import { runCli } from '../support/run-cli';
import { startServe } from '../support/serve-process';
import { createStoreKeyFile } from '../../src/store/sealing';

describe('cli/etcd-options', function () {
  this.timeout(60_000);
  let work: string;
  let storeKeyFile: string;
  let tls: EtcdTlsFiles;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-etcd-options-'));
    storeKeyFile = path.join(work, 'store.key');
    createStoreKeyFile(storeKeyFile);
    tls = await makeEtcdTls(path.join(work, 'tls'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('names the flag and the file that is wrong, before dialling etcd', () => {
    const missing = path.join(work, 'nope.pem');
    assert.throws(() => etcdClientOf({ etcdCa: missing }), new RegExp(`--etcd-ca ${missing}: cannot read it: ENOENT`));
    assert.throws(() => etcdClientOf({ etcdCa: tls.clientKeyFile }), /--etcd-ca .*client-key\.pem: not a PEM certificate/);
    assert.throws(() => etcdClientOf({ etcdCa: tls.caFile, etcdCert: tls.clientCertFile, etcdKey: tls.caFile }), /--etcd-key .*ca\.pem: not a PEM private key/);
    assert.throws(() => etcdClientOf({ etcdCa: tls.caFile, etcdCert: tls.clientCertFile }), /--etcd-cert needs --etcd-key/);
    assert.throws(() => etcdClientOf({ etcdCert: tls.clientCertFile, etcdKey: tls.clientKeyFile }), /--etcd-cert needs --etcd-ca/);
    assert.throws(() => etcdClientOf({ etcdUser: 'root' }), /--etcd-user needs --etcd-password-file/);
    const empty = path.join(work, 'empty-password');
    fs.writeFileSync(empty, '\n');
    assert.throws(() => etcdClientOf({ etcdUser: 'root', etcdPasswordFile: empty }), /--etcd-password-file .*empty-password: the file is empty/);
    assert.equal(etcdClientOf({}), undefined);
  });

  it('has no --etcd-password flag (a password on the command line is refused), and no use for --etcd-* without --store', async () => {
    const result = await runCli(['store', 'export', work, '--store', 'etcd://127.0.0.1:1/x', '--etcd-user', 'root', '--etcd-password', 'secret']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /unknown option '--etcd-password'/);
    const withoutStore = await runCli(['serve', '--config', work, '--state-dir', path.join(work, 'state-none'), '--no-admin', '--etcd-ca', tls.caFile]);
    assert.equal(withoutStore.code, 2);
    assert.match(withoutStore.stderr, /the --etcd-\* flags say how to reach --store etcd:\/\/…; without --store they would do nothing/);
  });

  describe('client TLS with client certificate auth', () => {
    let etcd: EtcdProcess;
    let url: string;
    before(async function () {
      etcd = await startEtcd(etcdOrSkip(this), { tls: { certFile: tls.serverCertFile, keyFile: tls.serverKeyFile, clientCaFile: tls.caFile } });
      url = `etcd://${etcd.endpoint}/tls/`;
    });
    after(async () => etcd?.stop());

    it('imports, exports and serves with the right CA and client certificate', async () => {
      const flags = { etcdCa: tls.caFile, etcdCert: tls.clientCertFile, etcdKey: tls.clientKeyFile };
      const imported = await runStoreImport(COLORAPP, { store: url, prune: false, trustDomain: 'meshd.local', etcd: flags });
      assert.equal(imported.exitCode, 0, imported.output);
      assert.match(imported.output, /5 created/);
      const exported = await runStoreExport(path.join(work, 'exported-tls'), { store: url, etcd: flags });
      assert.equal(exported.exitCode, 0, exported.output);
      assert.equal(fs.readdirSync(path.join(work, 'exported-tls')).length, 5);
      const serve = await startServe(work, path.join(work, 'state-tls'), ['--store', url, '--store-key-file', storeKeyFile, '--etcd-ca', tls.caFile, '--etcd-cert', tls.clientCertFile, '--etcd-key', tls.clientKeyFile]);
      try {
        assert.match(serve.stderr(), /serving 4 mesh endpoint\(s\) from etcd:\/\//);
      } finally {
        serve.child.kill('SIGTERM');
        await new Promise((resolve) => serve.child.once('exit', resolve));
      }
    });

    it('fails naming the store with a CA that did not sign the members, or without a client certificate, or without TLS', async () => {
      const store = `etcd store etcd://${etcd.endpoint.replace(/\./g, '\\.')}/tls/`;
      const wrongCa = await runStoreExport(path.join(work, 'x1'), { store: url, etcd: { etcdCa: tls.otherCaFile, etcdCert: tls.clientCertFile, etcdKey: tls.clientKeyFile } });
      assert.equal(wrongCa.exitCode, 1);
      assert.match(wrongCa.output, new RegExp(`^${store}: could not read the entries: `));
      const noClientCert = await runStoreExport(path.join(work, 'x2'), { store: url, etcd: { etcdCa: tls.caFile } });
      assert.equal(noClientCert.exitCode, 1);
      assert.match(noClientCert.output, new RegExp(`^${store}: could not read the entries: `));
      const plain = await runStoreExport(path.join(work, 'x3'), { store: url });
      assert.equal(plain.exitCode, 1);
      assert.match(plain.output, new RegExp(`^${store}: could not read the entries: `));
    });

    it('makes serve exit with the store named when the credentials are refused', async () => {
      const result = await runCli(['serve', '--store', url, '--store-key-file', storeKeyFile, '--state-dir', path.join(work, 'state-refused'), '--xds', '127.0.0.1:0', '--no-admin', '--etcd-ca', tls.otherCaFile]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /etcd store etcd:\/\/127\.0\.0\.1:\d+\/tls\/: could not (read the key check|watch the entries): /);
    });
  });

  describe('etcd user and password auth', () => {
    let etcd: EtcdProcess;
    let url: string;
    const passwordFile = (): string => path.join(work, 'etcd-password');
    before(async function () {
      etcd = await startEtcd(etcdOrSkip(this));
      url = `etcd://${etcd.endpoint}/auth/`;
      fs.writeFileSync(passwordFile(), 'correct horse\n', { mode: 0o600 });
      // etcd refuses to enable auth until a root user with the root role exists.
      const admin = new Etcd3({ hosts: `http://${etcd.endpoint}` });
      try {
        await admin.role('root').create();
        await admin.user('root').create('correct horse');
        await admin.user('root').addRole('root');
        await admin.auth.authEnable();
      } finally {
        admin.close();
      }
    });
    after(async () => etcd?.stop());

    it('imports and exports as the user whose password is in the file', async () => {
      const flags = { etcdUser: 'root', etcdPasswordFile: passwordFile() };
      const imported = await runStoreImport(COLORAPP, { store: url, prune: false, trustDomain: 'meshd.local', etcd: flags });
      assert.equal(imported.exitCode, 0, imported.output);
      const exported = await runCli(['store', 'export', path.join(work, 'exported-auth'), '--store', url, '--etcd-user', 'root', '--etcd-password-file', passwordFile()]);
      assert.equal(exported.code, 0, exported.stdout + exported.stderr);
      assert.match(exported.stdout, /5 file\(s\) written/);
    });

    it('fails naming the store with a wrong password or none', async () => {
      const wrong = path.join(work, 'wrong-password');
      fs.writeFileSync(wrong, 'battery staple\n', { mode: 0o600 });
      const store = `etcd store etcd://${etcd.endpoint.replace(/\./g, '\\.')}/auth/`;
      const refused = await runStoreExport(path.join(work, 'y1'), { store: url, etcd: { etcdUser: 'root', etcdPasswordFile: wrong } });
      assert.equal(refused.exitCode, 1);
      assert.match(refused.output, new RegExp(`^${store}: could not read the entries: .*authentication failed`));
      const anonymous = await runStoreExport(path.join(work, 'y2'), { store: url });
      assert.equal(anonymous.exitCode, 1);
      assert.match(anonymous.output, new RegExp(`^${store}: could not read the entries: .*user name is empty`));
    });
  });
});
