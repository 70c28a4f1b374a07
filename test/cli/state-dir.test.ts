// The state directory through the real command line: only `meshd serve` creates state, and it
// never silently replaces CA material or the node credential key it finds damaged; the recovery
// flags it names do what they say.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrustAuthority } from '../../src/pki/authority';
import { MESHD_BIN, runCli } from '../support/run-cli';

const EXAMPLE = path.resolve(__dirname, '../../../examples/colorapp');
const FRONT = 'mesh/colorapp/virtualNode/front';

interface ServeOutcome {
  /** Set when serve came up; stop it with stop(). */
  child?: ChildProcess;
  /** Exit code when serve refused to start. */
  code?: number;
  stderr: string;
}

/** Runs `meshd serve` until it says it is serving (or exits), on ephemeral ports. */
async function serve(config: string, stateDir: string, extra: string[] = []): Promise<ServeOutcome> {
  const child = spawn(process.execPath, [MESHD_BIN, 'serve', '--config', config, '--state-dir', stateDir, '--xds', '127.0.0.1:0', '--admin', '127.0.0.1:0', ...extra],
    { env: { ...process.env, MESHD_LOG_LEVEL: 'info' } });
  let stderr = '';
  return new Promise((resolve) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (/meshd: serving /.test(stderr)) resolve({ child, stderr });
    });
    child.on('exit', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

/** Stops a serve process this test started and waits for it to exit. */
async function stop(outcome: ServeOutcome): Promise<void> {
  const child = outcome.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function publicKeyOfCertificate(file: string): string {
  return new X509Certificate(fs.readFileSync(file)).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

function publicKeyOfPrivateKey(file: string): string {
  return createPublicKey(createPrivateKey(fs.readFileSync(file))).export({ type: 'spki', format: 'pem' }).toString();
}

describe('cli: the state directory', function () {
  this.timeout(30_000);
  let work: string;
  let config: string;
  let state: string;
  const running: ServeOutcome[] = [];

  async function serveHere(extra: string[] = []): Promise<ServeOutcome> {
    const outcome = await serve(config, state, extra);
    running.push(outcome);
    return outcome;
  }

  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-statedir-'));
    config = path.join(work, 'mesh');
    fs.cpSync(EXAMPLE, config, { recursive: true });
    state = path.join(work, 'state');
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map(stop));
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('says so, with the path, when serve creates a new state directory and CA', async () => {
    const outcome = await serveHere();
    assert.ok(outcome.child, outcome.stderr);
    const created = outcome.stderr.split('\n').find((line) => line.includes('created a new state directory'));
    assert.ok(created, outcome.stderr);
    assert.ok(created.includes(state), created);
    assert.match(created, /"level":40/, 'logged as a warning: a typo in --state-dir must not pass unnoticed');
  });

  it('refuses a CA certificate deleted while its key remains, keeps the key, and --adopt-ca re-creates the certificate from that key', async () => {
    await stop(await serveHere());
    const certFile = path.join(state, 'ca', 'ca-1', 'ca.crt');
    const keyFile = path.join(state, 'ca', 'ca-1', 'ca.key');
    const keyBefore = fs.readFileSync(keyFile, 'utf8');
    fs.rmSync(certFile);

    const refused = await serveHere();
    assert.equal(refused.code, 1, refused.stderr);
    assert.ok(refused.stderr.includes(certFile), refused.stderr);
    assert.match(refused.stderr, /--adopt-ca/);
    assert.match(refused.stderr, /--new-ca/);
    assert.equal(fs.readFileSync(keyFile, 'utf8'), keyBefore, 'the CA key is untouched');

    const adopted = await serveHere(['--adopt-ca']);
    assert.ok(adopted.child, adopted.stderr);
    assert.equal(fs.readFileSync(keyFile, 'utf8'), keyBefore, 'the CA key is still the one proxies trust');
    assert.equal(publicKeyOfCertificate(certFile), publicKeyOfPrivateKey(keyFile));
  });

  it('refuses a deleted state.json after a completed rollover, and --adopt-ca keeps the current CA', async () => {
    await stop(await serveHere());
    // A completed rollover, as `meshd ca rollover` leaves it once the old CA is retired.
    const authority = await TrustAuthority.open({ stateDir: state, trustDomain: 'meshd.local' });
    await authority.startRollover();
    assert.equal(await authority.finishRollover({ force: true }), true);
    const currentCert = fs.readFileSync(path.join(state, 'ca', 'ca-2', 'ca.crt'), 'utf8');
    await authority.close();
    const stateFile = path.join(state, 'ca', 'state.json');
    fs.rmSync(stateFile);

    const refused = await serveHere();
    assert.equal(refused.code, 1, refused.stderr);
    assert.ok(refused.stderr.includes(stateFile), refused.stderr);
    assert.match(refused.stderr, /ca-2/);
    assert.match(refused.stderr, /--adopt-ca/);
    assert.ok(!fs.existsSync(path.join(state, 'ca', 'ca-1')), 'no fresh ca-1 was made');

    const adopted = await serveHere(['--adopt-ca']);
    assert.ok(adopted.child, adopted.stderr);
    assert.deepEqual(JSON.parse(fs.readFileSync(stateFile, 'utf8')), { current: 'ca-2' });
    assert.equal(fs.readFileSync(path.join(state, 'ca', 'ca-2', 'ca.crt'), 'utf8'), currentCert);
  });

  it('--new-ca sets damaged CA material aside (never deletes it) and starts over deliberately', async () => {
    await stop(await serveHere());
    const oldKey = fs.readFileSync(path.join(state, 'ca', 'ca-1', 'ca.key'), 'utf8');
    fs.rmSync(path.join(state, 'ca', 'ca-1', 'ca.crt'));
    const replaced = await serveHere(['--new-ca']);
    assert.ok(replaced.child, replaced.stderr);
    assert.match(replaced.stderr, /set aside/);
    const asideDir = fs.readdirSync(state).find((name) => name.startsWith('ca.replaced-'));
    assert.ok(asideDir, fs.readdirSync(state).join(', '));
    assert.equal(fs.readFileSync(path.join(state, asideDir, 'ca-1', 'ca.key'), 'utf8'), oldKey);
    assert.notEqual(fs.readFileSync(path.join(state, 'ca', 'ca-1', 'ca.key'), 'utf8'), oldKey);
  });

  it('refuses a missing node-credential.key beside an existing CA; --new-node-key makes one and warns', async () => {
    await stop(await serveHere());
    const keyFile = path.join(state, 'node-credential.key');
    fs.rmSync(keyFile);

    const refused = await serveHere();
    assert.equal(refused.code, 1, refused.stderr);
    assert.ok(refused.stderr.includes(keyFile), refused.stderr);
    assert.match(refused.stderr, /--new-node-key/);
    assert.ok(!fs.existsSync(keyFile));

    const renewed = await serveHere(['--new-node-key']);
    assert.ok(renewed.child, renewed.stderr);
    assert.ok(fs.existsSync(keyFile));
    assert.ok(renewed.stderr.split('\n').some((line) => line.includes('"level":40') && line.includes(keyFile) && line.includes('bootstrap')), renewed.stderr);
  });

  it('narrows a world-writable state directory and node credential key, with a warning naming each', async () => {
    await stop(await serveHere());
    const keyFile = path.join(state, 'node-credential.key');
    fs.chmodSync(state, 0o777);
    fs.chmodSync(keyFile, 0o666);
    const outcome = await serveHere();
    assert.ok(outcome.child, outcome.stderr);
    assert.equal(fs.statSync(state).mode & 0o777, 0o750);
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    const warnings = outcome.stderr.split('\n').filter((line) => line.includes('"level":40'));
    assert.ok(warnings.some((line) => line.includes(`"${state}"`) && line.includes('"777"')), warnings.join('\n'));
    assert.ok(warnings.some((line) => line.includes(`"${keyFile}"`) && line.includes('"666"')), warnings.join('\n'));
  });

  it('bootstrap without --state-dir fails naming the directory it looked in and the flag, creating nothing', async () => {
    const cwd = path.join(work, 'elsewhere');
    fs.mkdirSync(cwd);
    const result = await runInDir(cwd, ['bootstrap', '--node', FRONT]);
    assert.equal(result.code, 1, result.stdout);
    assert.ok(result.stderr.includes(path.join(cwd, '.meshd')), result.stderr);
    assert.match(result.stderr, /--state-dir/);
    assert.equal(result.stdout, '');
    assert.ok(!fs.existsSync(path.join(cwd, '.meshd')), 'bootstrap created state');
  });

  it('agent without --state-dir fails naming the directory it looked in and the flag, creating nothing', async () => {
    const cwd = path.join(work, 'elsewhere');
    fs.mkdirSync(cwd);
    const result = await runInDir(cwd, ['agent', '--node', FRONT, '--dir', path.join(work, 'certs')], 10_000);
    assert.equal(result.code, 1, result.stderr);
    assert.ok(result.stderr.includes(path.join(cwd, '.meshd')), result.stderr);
    assert.match(result.stderr, /--state-dir/);
    assert.ok(!fs.existsSync(path.join(cwd, '.meshd')), 'agent created state');
  });

  it('bootstrap --config refuses a node that is not in the mesh, naming the endpoints that are', async () => {
    await stop(await serveHere());
    const missing = await runCli(['bootstrap', '--state-dir', state, '--config', config, '--node', 'mesh/colorapp/virtualNode/purple']);
    assert.equal(missing.code, 1, missing.stdout);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /mesh\/colorapp\/virtualNode\/purple/);
    assert.ok(missing.stderr.includes(FRONT), missing.stderr);
    assert.match(missing.stderr, /mesh\/colorapp\/virtualGateway\/gateway/);

    const present = await runCli(['bootstrap', '--state-dir', state, '--config', config, '--node', FRONT]);
    assert.equal(present.code, 0, present.stderr);
    assert.match(present.stdout, /id: mesh\/colorapp\/virtualNode\/front/);
  });

  it('bootstrap without --config says the node was not checked against a mesh', async () => {
    await stop(await serveHere());
    const result = await runCli(['bootstrap', '--state-dir', state, '--node', 'mesh/colorapp/virtualNode/purple']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /not checked.*--config/);
  });
});

/** The real CLI with another working directory; a process still running at the deadline is a failure. */
function runInDir(cwd: string, args: string[], deadlineMs = 10_000): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MESHD_BIN, ...args], { cwd, env: { ...process.env } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? `killed by ${signal ?? 'signal'} (still running at the deadline)`, stdout, stderr });
    });
  });
}
