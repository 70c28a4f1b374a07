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
import { runCli } from '../support/run-cli';
import { startServe, type ServeProcess } from '../support/serve-process';
import { XdsTestClient } from '../support/xds-client';
import { parsePrometheusText, sampleValue } from '../admin/prom-text';
import { writeConfigMap } from '../support/configmap';

const EXAMPLE = path.resolve(__dirname, '../../../examples/colorapp');
const FRONT = 'mesh/colorapp/virtualNode/front';

describe('cli: meshd serve, status, certs rotate, ca rollover', function () {
  this.timeout(40_000);
  let work: string;
  let serve: ServeProcess;
  let child: ChildProcess;
  let ads: string;
  let admin: string;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-serve-'));
    fs.cpSync(EXAMPLE, path.join(work, 'mesh'), { recursive: true });
    serve = await startServe(path.join(work, 'mesh'), path.join(work, 'state'));
    ({ child, ads, admin } = serve);
  });
  after(async () => {
    serve?.kill();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('says on one line where it listens', () => {
    assert.match(serve.stderr(), /meshd: serving 4 mesh endpoint\(s\) from .*; ADS on 127\.0\.0\.1:\d+; SDS on unix:.*sds\.sock; admin on http:\/\/127\.0\.0\.1:\d+/);
  });

  it('serves a credentialed proxy, and `meshd status` shows it in sync', async () => {
    const client = new XdsTestClient(ads);
    try {
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, NodeCredentials.loadOrCreate(path.join(work, 'state')).tokenFor(FRONT));
      const stream = client.sotw('ads', metadata);
      stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Cluster });
      stream.ack(await stream.next());
      // Wait for the ACK to be recorded: /status says the proxy is synced.
      const synced = async (): Promise<boolean> => {
        const doc = (await (await fetch(`${admin}/status`)).json()) as { proxies: { nodeId: string; types: { state: string }[] }[] };
        return doc.proxies.some((p) => p.nodeId === FRONT && p.types.length > 0 && p.types.every((t) => t.state === 'synced'));
      };
      const deadline = Date.now() + 10_000;
      while (!(await synced())) {
        if (Date.now() > deadline) throw new Error('the ACK never showed in /status');
        await new Promise((r) => setTimeout(r, 20));
      }
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

  it('logs one line for an SDS request naming 10,000 secrets it may not have, and still serves its own', async () => {
    const client = new XdsTestClient(serve.sds);
    try {
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, NodeCredentials.loadOrCreate(path.join(work, 'state')).tokenFor(FRONT));
      const stream = client.sotw('sds', metadata);
      const names = ['default', ...Array.from({ length: 10_000 }, (_, i) => `not-mine-${i}`)];
      stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Secret, resourceNames: names });
      const response = await stream.next(10_000);
      assert.equal(response.resources.length, 1, 'its own certificate still comes');
      // The log lines were written before the response; one more round trip drains the pipe.
      await fetch(`${admin}/healthz`);
      const lines = serve.stderr().split('\n').filter((line) => line.includes('not entitled'));
      assert.equal(lines.length, 1, lines.slice(0, 3).join('\n'));
      const line = JSON.parse(lines[0]!) as { refused: number; sample: string[] };
      assert.equal(line.refused, 10_000);
      assert.equal(line.sample.length, 5);
      stream.end();
    } finally {
      client.close();
    }
  });

  it('shuts down cleanly on SIGTERM and removes its socket', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(fs.existsSync(path.join(work, 'state', 'sds.sock')), false);
  });
});

// Hostile and awkward spec inputs fed to a real `meshd serve`: each is refused (or recovered from)
// while the process stays up, /healthz answers and the last good mesh is still served.
describe('cli: meshd serve survives hostile spec input', function () {
  this.timeout(60_000);
  const EXTRA = 'mesh/colorapp/virtualNode/extra';
  const extraNode = (port: number): string => `kind: VirtualNode
meshName: colorapp
virtualNodeName: extra
spec:
  listeners: [{ portMapping: { port: ${port}, protocol: http } }]
  serviceDiscovery: { dns: { hostname: 127.0.0.1 } }
meshd: { ingressPort: 15900, egressPort: 15901, adminPort: 9990 }
`;
  interface MeshStatusBody { mesh: { revision: string | null; lastRefused?: { errors: string[] } } }
  let work: string;
  const children: ChildProcess[] = [];

  beforeEach(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-hostile-')); });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function serve(configDir: string): Promise<{ child: ChildProcess; admin: string }> {
    const started = await startServe(configDir, path.join(work, 'state'));
    children.push(started.child);
    return { child: started.child, admin: started.admin };
  }

  /** Polls an admin endpoint until `accept` says yes (the event is the status changing). */
  async function until<T>(url: string, accept: (status: number, body: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + 15_000;
    let last = '';
    while (Date.now() < deadline) {
      const response = await fetch(url);
      const body = (await response.json()) as T;
      if (accept(response.status, body)) return body;
      last = `${response.status} ${JSON.stringify(body)}`;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${what}: not seen in time; last ${url}: ${last}`);
  }

  async function assertAliveAndServing(child: ChildProcess, admin: string): Promise<void> {
    assert.equal(child.exitCode, null, 'meshd is still running');
    assert.equal((await fetch(`${admin}/healthz`)).status, 200);
    const dump = (await (await fetch(`${admin}/config_dump?node=${FRONT}`)).json()) as { configs?: unknown[] };
    assert.ok(served(true)(200, dump), 'the last good mesh is still served');
  }

  const refusedWith = (pattern: RegExp) => (_status: number, body: MeshStatusBody): boolean =>
    Boolean(body.mesh.lastRefused?.errors.some((e) => pattern.test(e)));
  const applied = (_status: number, body: MeshStatusBody): boolean => body.mesh.lastRefused === undefined;
  // A node that has left the mesh still gets a dump (the trust bundle), with no configuration.
  const served = (yes: boolean) => (_status: number, body: { configs?: unknown[] }): boolean => ((body.configs?.length ?? 0) > 0) === yes;

  it('refuses an alias bomb, 130,000 documents and a 50 MB scalar, staying up and small', async () => {
    const mesh = path.join(work, 'mesh');
    fs.cpSync(EXAMPLE, mesh, { recursive: true });
    const { child, admin } = await serve(mesh);
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let level = 1; level < 9; level += 1) {
      const name = String.fromCharCode(97 + level);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${String.fromCharCode(96 + level)}`).join(', ')}]`);
    }
    const hostile: { file: string; content: string; error: RegExp }[] = [
      { file: 'bomb.yaml', content: `${levels.join('\n')}\n`, error: /^bomb\.yaml: document 1: expands YAML aliases more than 1000 times/ },
      { file: 'many.yaml', content: '--- {}\n'.repeat(130_000), error: /^many\.yaml: holds more than 10000 documents \(--spec-max-documents\)/ },
      { file: 'huge.yaml', content: `kind: Mesh\nmeshName: ${'a'.repeat(50 * 1024 * 1024)}\n`, error: /^huge\.yaml: is 52428\d+ bytes, over the limit of 1048576 bytes/ },
    ];
    for (const input of hostile) {
      fs.writeFileSync(path.join(mesh, input.file), input.content);
      await until(`${admin}/status`, refusedWith(input.error), `${input.file} refused`);
      await assertAliveAndServing(child, admin);
      fs.rmSync(path.join(mesh, input.file));
      await until(`${admin}/status`, applied, `recovery after ${input.file}`);
    }
    const metrics = parsePrometheusText(await (await fetch(`${admin}/metrics`)).text());
    // At least one refusal each (a file still being written may be refused once more).
    assert.ok(sampleValue(metrics, 'meshd_config_reloads_total', { result: 'refused' })! >= hostile.length);
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    assert.ok(rssKb < 400 * 1024, `RSS ${Math.round(rssKb / 1024)} MB: the 50 MB file was never read`);
  });

  it('turns unready while its directory is renamed away, and recovers by itself when it returns', async () => {
    const mesh = path.join(work, 'mesh');
    fs.cpSync(EXAMPLE, mesh, { recursive: true });
    const { child, admin } = await serve(mesh);
    await until(`${admin}/readyz`, (status) => status === 200, 'ready');
    fs.renameSync(mesh, `${mesh}.away`);
    const unready = await until<{ failing: string[] }>(`${admin}/readyz`, (status) => status === 503, 'unready while the specs are gone');
    assert.deepEqual(unready.failing, ['specs readable']);
    await until(`${admin}/status`, refusedWith(/cannot read spec directory: ENOENT/), 'the refusal in /status');
    await assertAliveAndServing(child, admin);
    fs.renameSync(`${mesh}.away`, mesh);
    await until(`${admin}/readyz`, (status) => status === 200, 'ready again');
    fs.writeFileSync(path.join(mesh, 'extra.yaml'), extraNode(9090));
    await until(`${admin}/config_dump?node=${EXTRA}`, served(true), 'a later edit applied');
    await until(`${admin}/status`, applied, 'no stale ENOENT in /status');
  });

  it('applies the atomic ..data swap of a Kubernetes ConfigMap volume', async () => {
    const mesh = path.join(work, 'configmap');
    const files = Object.fromEntries(fs.readdirSync(EXAMPLE).map((name) => [name, fs.readFileSync(path.join(EXAMPLE, name), 'utf8')]));
    writeConfigMap(mesh, files);
    const { child, admin } = await serve(mesh);
    await until(`${admin}/config_dump?node=${FRONT}`, served(true), 'the symlinked specs read');
    await until(`${admin}/config_dump?node=${EXTRA}`, served(false), 'no extra node yet');
    writeConfigMap(mesh, { ...files, 'extra.yaml': extraNode(9090) });
    await until(`${admin}/config_dump?node=${EXTRA}`, served(true), 'the swap applied');
    writeConfigMap(mesh, files);
    await until(`${admin}/config_dump?node=${EXTRA}`, served(false), 'the next swap applied');
    await assertAliveAndServing(child, admin);
  });
});

describe('cli: meshd serve stopped right after its ready line', function () {
  this.timeout(60_000);
  let work: string;
  beforeEach(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-serve-ready-')); });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  // Supervisors and tests send SIGTERM as soon as the ready line appears; the process must already
  // handle it then (it was once killed outright when the signal came before its handlers existed).
  it('shuts down cleanly on a SIGTERM sent the moment the ready line arrives', async () => {
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const child = spawn(process.execPath, [path.resolve(__dirname, '../../../bin/meshd.js'), 'serve', '--config', EXAMPLE,
        '--state-dir', path.join(work, `state-${attempt}`), '--xds', '127.0.0.1:0', '--no-admin'], { env: { ...process.env, MESHD_LOG_LEVEL: 'warn' } });
      let stderr = '';
      let signalled = false;
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (!signalled && /ADS on .*; SDS on /.test(stderr)) {
          signalled = true;
          child.kill('SIGTERM');
        }
      });
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
      outcomes.push(`${code}/${signal}`);
    }
    assert.deepEqual(outcomes, Array(5).fill('0/null'));
  });
});
