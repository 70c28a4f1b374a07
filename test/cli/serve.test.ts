// The whole product through its command line: `meshd serve` on a copy of the demo mesh, a proxy
// with its credential on ADS, and the operator commands against the running process.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CREDENTIAL_HEADER, NodeCredentials } from '../../src/auth/node-credential';
import { TypeUrl } from '../../src/xds/type-urls';
import { MESHD_BIN, runCli } from '../support/run-cli';
import { XdsTestClient } from '../support/xds-client';
import { parsePrometheusText, sampleValue } from '../admin/prom-text';

const EXAMPLE = path.resolve(__dirname, '../../../examples/colorapp');
const FRONT = 'mesh/colorapp/virtualNode/front';

describe('cli: meshd serve, status, certs rotate, ca rollover', function () {
  this.timeout(40_000);
  let work: string;
  let child: ChildProcess;
  let stderr = '';
  let ads: string;
  let admin: string;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-serve-'));
    fs.cpSync(EXAMPLE, path.join(work, 'mesh'), { recursive: true });
    child = spawn(process.execPath, [MESHD_BIN, 'serve', '--config', path.join(work, 'mesh'), '--xds', '127.0.0.1:0',
      '--state-dir', path.join(work, 'state'), '--admin', '127.0.0.1:0'], { env: { ...process.env, MESHD_LOG_LEVEL: 'warn' } });
    child.stderr!.on('data', (d) => { stderr += d; });
    const deadline = Date.now() + 15_000;
    while (!/admin on (http:\/\/\S+)/.test(stderr)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`meshd did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    ads = /ADS on ([^;]+);/.exec(stderr)![1]!;
    admin = /admin on (http:\/\/\S+)/.exec(stderr)![1]!;
  });
  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('says on one line where it listens', () => {
    assert.match(stderr, /meshd: serving 4 mesh endpoint\(s\) from .*; ADS on 127\.0\.0\.1:\d+; SDS on unix:.*sds\.sock; admin on http:\/\/127\.0\.0\.1:\d+/);
  });

  it('serves a credentialed proxy, and `meshd status` shows it in sync', async () => {
    const client = new XdsTestClient(ads);
    try {
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, NodeCredentials.loadOrCreate(path.join(work, 'state')).tokenFor(FRONT));
      const stream = client.sotw('ads', metadata);
      stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Cluster });
      stream.ack(await stream.next());
      await new Promise((r) => setTimeout(r, 200));
      const status = await runCli(['status', '--admin', admin]);
      assert.equal(status.code, 0, status.stdout + status.stderr);
      assert.match(status.stdout, /mesh\/colorapp\/virtualNode\/front/);
      const json = JSON.parse((await runCli(['status', '--admin', admin, '--json'])).stdout) as { proxies: { nodeId: string; types: { type: string; state: string }[] }[] };
      assert.equal(json.proxies[0]!.nodeId, FRONT);
      assert.equal(json.proxies[0]!.types[0]!.state, 'synced');
      stream.end();
    } finally {
      client.close();
    }
  });

  it('shows a refused spec change in /status and /metrics, with every error', async () => {
    const file = path.join(work, 'mesh', 'front.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('mode: STRICT', 'mode: SOMETIMES'));
    const deadline = Date.now() + 5000;
    let lastRefused: { errors: string[] } | undefined;
    while (!lastRefused && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      lastRefused = ((await (await fetch(`${admin}/status`)).json()) as { mesh: { lastRefused?: { errors: string[] } } }).mesh.lastRefused;
    }
    assert.ok(lastRefused, 'the refusal shows in /status');
    assert.ok(lastRefused.errors.some((e) => e.startsWith('front.yaml: VirtualNode front: spec.listeners[0].tls.mode:')), lastRefused.errors.join('\n'));
    const metrics = parsePrometheusText(await (await fetch(`${admin}/metrics`)).text());
    assert.equal(sampleValue(metrics, 'meshd_config_reloads_total', { result: 'refused' }), 1);
    assert.equal(sampleValue(metrics, 'meshd_config_reloads_total', { result: 'applied' }), 1);
  });

  it('rotates leaves and starts a CA rollover on request', async () => {
    const rotate = await runCli(['certs', 'rotate', '--admin', admin]);
    assert.equal(rotate.code, 0, rotate.stdout);
    assert.match(rotate.stdout, /re-issued \d+ leaf certificate/);
    const rollover = await runCli(['ca', 'rollover', '--admin', admin]);
    assert.equal(rollover.code, 0, rollover.stdout);
    assert.match(rollover.stdout, /CA rollover started/);
    // A second one while the first is under way: a conflict (409), saying when the first ends.
    const second = await runCli(['ca', 'rollover', '--admin', admin]);
    assert.equal(second.code, 1, second.stdout);
    assert.match(second.stdout, /\(409\): a CA rollover is already in progress: .*it finishes by itself/);
    assert.doesNotMatch(second.stdout, /finish it first/);
  });

  it('refuses to rotate a node that is not in the mesh, naming it', async () => {
    const result = await runCli(['certs', 'rotate', '--node', 'mesh/colorapp/virtualNode/nobody', '--admin', admin]);
    assert.notEqual(result.code, 0, result.stdout);
    assert.match(result.stdout, /mesh\/colorapp\/virtualNode\/nobody is not an endpoint of the current mesh/);
  });

  it('shuts down cleanly on SIGTERM and removes its socket', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(fs.existsSync(path.join(work, 'state', 'sds.sock')), false);
  });
});
