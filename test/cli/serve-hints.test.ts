// What `meshd serve` tells its operator at startup, run as a real process: a bootstrap command
// that works exactly as printed, a warning when ADS or admin is reachable beyond loopback without
// MESHD_ADMIN_TOKEN, and startup failures (a public admin address, a port in use) said in meshd's
// own words, without raw grpc-js lines.
import { strict as assert } from 'node:assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { MESHD_BIN, runCli } from '../support/run-cli';

const EXAMPLE = path.resolve(__dirname, '../../../examples/colorapp');
const CHECKOUT = path.resolve(__dirname, '../../..');

interface Served {
  child: ChildProcess;
  stderr: () => string;
}

/**
 * Starts `meshd serve` (as `node bin/meshd.js` from the checkout) and waits for the bootstrap hint,
 * the last thing it prints at startup (after the "serving" line and any warnings).
 */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, [path.relative(CHECKOUT, MESHD_BIN), 'serve', ...args], {
    cwd: CHECKOUT, env: { ...process.env, MESHD_LOG_LEVEL: 'warn', MESHD_ADMIN_TOKEN: '', ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  await new Promise<void>((resolve, reject) => {
    const onData = (): void => {
      if (/meshd: an Envoy bootstrap for a node: .*\n/.test(stderr)) {
        child.stderr!.off('data', onData);
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`meshd serve exited ${code}:\n${stderr}`)));
  });
  return { child, stderr: () => stderr };
}

async function stop(served: Served | undefined): Promise<void> {
  if (!served || served.child.exitCode !== null) return;
  const exited = new Promise((resolve) => served.child.once('exit', resolve));
  served.child.kill('SIGTERM');
  await exited;
}

/** JSON log lines at level warn (40) whose message matches. */
function warnings(stderr: string, pattern: RegExp): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string })
    .filter((entry) => entry.level === 40 && pattern.test(entry.msg)).map((entry) => entry.msg);
}

describe('cli: what meshd serve says at startup', function () {
  this.timeout(40_000);
  let work: string;
  let served: Served | undefined;

  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-hints-'));
    fs.cpSync(EXAMPLE, path.join(work, 'mesh'), { recursive: true });
  });
  afterEach(async () => {
    await stop(served);
    served = undefined;
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('prints a bootstrap command that works as printed, with its non-default ADS, SDS socket and state directory', async () => {
    const sdsSocket = path.join(work, 'run', 'sds.sock');
    served = await serve(['--config', path.join(work, 'mesh'), '--xds', '127.0.0.1:0', '--sds-socket', sdsSocket,
      '--state-dir', path.join(work, 'state'), '--admin', '127.0.0.1:0']);
    const ads = /ADS on ([^;]+);/.exec(served.stderr())![1]!;
    const command = /meshd: an Envoy bootstrap for a node: (.+)/.exec(served.stderr())?.[1];
    assert.ok(command, served.stderr());
    assert.match(command, /^node bin\/meshd\.js bootstrap /, 'the checkout form, as the README gives it');
    const output = await new Promise<string>((resolve, reject) => {
      execFile('/bin/sh', ['-c', command], { cwd: CHECKOUT }, (err, stdout, stderr) => (err ? reject(new Error(`${command}: ${stderr}`)) : resolve(stdout)));
    });
    const [host, port] = ads.split(':');
    assert.match(output, new RegExp(`address: ${host!.replace(/\./g, '\\.')}\\s+port_value: ${port}\\b`), 'the bootstrap points at the ADS meshd listens on');
    assert.ok(output.includes(`path: ${sdsSocket}`), 'the bootstrap names the SDS socket meshd listens on');
  });

  it('warns when ADS or admin listens beyond loopback without MESHD_ADMIN_TOKEN, and not with one', async () => {
    const args = ['--config', path.join(work, 'mesh'), '--xds', '0.0.0.0:0', '--state-dir', path.join(work, 'state'), '--admin', '0.0.0.0:0', '--admin-public'];
    served = await serve(args);
    const found = warnings(served.stderr(), /MESHD_ADMIN_TOKEN/);
    assert.equal(found.length, 2, served.stderr());
    assert.ok(found.some((msg) => /^ADS listens on 0\.0\.0\.0:\d+/.test(msg)), found.join('\n'));
    assert.ok(found.some((msg) => /^admin listens on http:\/\/0\.0\.0\.0:\d+/.test(msg)), found.join('\n'));
    await stop(served);
    served = await serve(args, { MESHD_ADMIN_TOKEN: 'a-long-enough-admin-token' });
    assert.deepEqual(warnings(served.stderr(), /MESHD_ADMIN_TOKEN/), []);
  });

  it('refuses a public admin address by naming --admin-public', async () => {
    const result = await runCli(['serve', '--config', path.join(work, 'mesh'), '--xds', '127.0.0.1:0', '--state-dir', path.join(work, 'state'), '--admin', '0.0.0.0:0'], { MESHD_LOG_LEVEL: 'warn' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--admin-public/);
    assert.doesNotMatch(result.stderr, /allowPublic/);
  });

  it('says which address is in use when ADS cannot listen, with no raw grpc-js line', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const result = await runCli(['serve', '--config', path.join(work, 'mesh'), '--xds', `127.0.0.1:${port}`, '--state-dir', path.join(work, 'state'), '--no-admin']);
      assert.equal(result.code, 1);
      const lines = result.stderr.split('\n').filter((line) => line !== '');
      for (const line of lines) assert.ok(line.startsWith('{') || line.startsWith('meshd: '), `a line in neither meshd's log form nor its message form: ${line}`);
      assert.match(lines[lines.length - 1]!, new RegExp(`^meshd: ADS cannot listen on 127\\.0\\.0\\.1:${port}: address already in use.*--xds`));
    } finally {
      holder.close();
    }
  });
});
