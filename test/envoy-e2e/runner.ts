// The local runner: the demo mesh on loopback with real Envoy processes from ENVOY_BIN. For one
// scenario it copies the spec to a temp directory with every port remapped to a free one, starts
// meshd (`node bin/meshd.js serve`), the applications, and one Envoy per endpoint with the
// bootstrap `meshd bootstrap` prints for it, and waits until every Envoy is ready and shows its
// listeners. Every process goes through one ProcessManager and is stopped by its id at the end,
// also when the scenario fails or the run is interrupted.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { activeListeners } from './envoy-admin';
import { waitFor, type MeshFactory, type MeshStartOptions, type MeshUnderTest } from './harness';
import { portsNeeded, remapPorts, type EndpointPlan } from './mesh-plan';
import { allocatePorts } from './ports';
import { ProcessManager, type ManagedProcess } from './process-manager';
import { SpecFiles } from './spec-files';
import { PlannedMesh } from './planned-mesh';

/** The repository root (this file runs from dist/test/envoy-e2e/). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const MESHD_BIN = path.join(REPO_ROOT, 'bin', 'meshd.js');
export const APPS_JS = path.join(REPO_ROOT, 'dist', 'test', 'envoy-e2e', 'apps.js');
export const DEMO_MESH = path.join(REPO_ROOT, 'examples', 'colorapp');
const TRUST_DOMAIN = 'meshd.local';

/** Runs `node bin/meshd.js ...args`; resolves with exit code and combined output. */
export function runMeshdCli(args: readonly string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MESHD_BIN, ...args], { timeout: timeoutMs, env: { ...process.env, MESHD_LOG_LEVEL: 'warn' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Whether this meshd's `serve` takes `--admin` (the admin endpoint is being added). */
export async function serveHasAdmin(): Promise<boolean> {
  const help = await runMeshdCli(['serve', '--help']);
  return /--admin\b/.test(help.stdout);
}

function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** The Host an application sends to reach its first backend through its egress listener. */
export function upstreamHostOf(spec: SpecFiles, node: string): string | undefined {
  const backends = spec.get(spec.find('VirtualNode', node), ['spec', 'backends']);
  const serviceName = Array.isArray(backends) ? (backends[0] as { virtualService?: { virtualServiceName?: string } })?.virtualService?.virtualServiceName : undefined;
  if (!serviceName) return undefined;
  const provider = spec.get(spec.find('VirtualService', serviceName), ['spec', 'provider']) as { virtualRouter?: { virtualRouterName: string }; virtualNode?: { virtualNodeName: string } };
  const port = provider.virtualRouter
    ? spec.get(spec.find('VirtualRouter', provider.virtualRouter.virtualRouterName), ['spec', 'listeners', 0, 'portMapping', 'port'])
    : spec.get(spec.find('VirtualNode', provider.virtualNode!.virtualNodeName), ['spec', 'listeners', 0, 'portMapping', 'port']);
  return `${serviceName}:${String(port)}`;
}

/** Listener names Envoy must show for an endpoint (meshd names them lds_<dir>_<address>_<port>). */
export function expectedListeners(endpoint: EndpointPlan): string[] {
  const suffixes = [`_${endpoint.ingressPort}`];
  if (endpoint.kind === 'virtualNode') suffixes.push(`_${endpoint.egressPort}`);
  return suffixes;
}

class LocalMesh extends PlannedMesh implements MeshUnderTest {
  readonly mode = 'envoy-bin' as const;
  readonly trustDomain = TRUST_DOMAIN;
  readonly processes: ProcessManager;
  meshdAdminUrl: string | undefined;
  endpoints: EndpointPlan[] = [];
  private meshd: ManagedProcess | undefined;
  private xdsPort = 0;
  private adminPort: number | undefined;
  private readonly specDir: string;
  private readonly stateDir: string;
  private readonly sdsSocket: string;

  constructor(readonly workDir: string, private readonly envoyBin: string, private readonly options: MeshStartOptions) {
    super();
    this.processes = new ProcessManager(path.join(workDir, 'logs'));
    this.processes.installExitHandlers();
    this.specDir = path.join(workDir, 'mesh');
    this.stateDir = path.join(workDir, 'state');
    this.sdsSocket = path.join(workDir, 'sds', 'sds.sock');
  }

  get gatewayUrl(): string {
    const gateway = this.endpoints.find((e) => e.kind === 'virtualGateway')!;
    return `https://127.0.0.1:${gateway.ingressPort}`;
  }


  async caBundlePem(): Promise<string> {
    const caRoot = path.join(this.stateDir, 'ca');
    const dirs = fs.readdirSync(caRoot, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    return dirs.map((d) => path.join(caRoot, d, 'ca.crt')).filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8')).join('');
  }

  spec(): SpecFiles {
    return new SpecFiles(this.specDir);
  }

  async setUp(): Promise<void> {
    fs.cpSync(DEMO_MESH, this.specDir, { recursive: true });
    const hasAdmin = await serveHasAdmin();
    const ports = await allocatePorts(portsNeeded(this.specDir) + 2);
    this.xdsPort = ports.pop()!;
    const adminPort = ports.pop()!;
    if (hasAdmin) this.adminPort = adminPort;
    this.meshdAdminUrl = hasAdmin ? `http://127.0.0.1:${adminPort}` : undefined;
    this.endpoints = remapPorts(this.specDir, ports);
    if (this.options.prepareSpec) {
      const spec = this.spec();
      this.options.prepareSpec(spec);
      spec.save();
    }
    await this.startMeshd();
    await this.startApps();
    await this.startEnvoys();
  }

  async startMeshd(): Promise<void> {
    const args = [MESHD_BIN, 'serve', '--config', this.specDir, '--xds', `127.0.0.1:${this.xdsPort}`,
      '--sds-socket', this.sdsSocket, '--state-dir', this.stateDir];
    if (this.options.leafTtlSeconds) args.push('--leaf-ttl', String(this.options.leafTtlSeconds));
    if (this.adminPort) args.push('--admin', `127.0.0.1:${this.adminPort}`);
    const meshd = this.processes.start('meshd', process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, MESHD_LOG_LEVEL: 'info' } });
    this.meshd = meshd;
    await waitFor('meshd to listen on ADS and SDS', async () => {
      if (!this.processes.live().includes(meshd)) throw new Error(`meshd exited:\n${this.processes.tail(meshd)}`);
      return (await tcpAnswers(this.xdsPort)) && fs.existsSync(this.sdsSocket);
    }, 30_000);
  }

  async meshdLog(): Promise<string> {
    const file = path.join(this.workDir, 'logs', 'meshd.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  async stopMeshd(): Promise<void> {
    if (this.meshd) await this.processes.stop(this.meshd);
    this.meshd = undefined;
  }

  private async startApps(): Promise<void> {
    const spec = this.spec();
    for (const endpoint of this.endpoints.filter((e) => e.kind === 'virtualNode' && e.appPort)) {
      const upstreamHost = upstreamHostOf(spec, endpoint.name);
      const args = [APPS_JS, '--name', endpoint.name, '--port', String(endpoint.appPort)];
      if (upstreamHost) args.push('--upstream', `http://127.0.0.1:${endpoint.egressPort}`, '--upstream-host', upstreamHost);
      const app = this.processes.start(`app ${endpoint.name}`, process.execPath, args, { cwd: REPO_ROOT });
      await waitFor(`app ${endpoint.name} on port ${endpoint.appPort}`, async () => {
        if (!this.processes.live().includes(app)) throw new Error(`app ${endpoint.name} exited:\n${this.processes.tail(app)}`);
        return tcpAnswers(endpoint.appPort!);
      }, 15_000, 100);
    }
  }

  private async startEnvoys(): Promise<void> {
    // Distinct base ids keep the Envoys' shared-memory regions apart; the pid spreads parallel runs.
    const baseId = 1000 + (process.pid % 5000) * 10;
    const started: Array<{ endpoint: EndpointPlan; proc: ManagedProcess }> = [];
    for (const [i, endpoint] of this.endpoints.entries()) {
      const bootstrap = await runMeshdCli(['bootstrap', '--node', endpoint.nodeId, '--xds', `127.0.0.1:${this.xdsPort}`,
        '--sds-socket', this.sdsSocket, '--admin-port', String(endpoint.adminPort), '--state-dir', this.stateDir]);
      if (bootstrap.code !== 0) throw new Error(`meshd bootstrap --node ${endpoint.nodeId} failed (${bootstrap.code}): ${bootstrap.stderr}`);
      const file = path.join(this.workDir, `bootstrap-${endpoint.name}.yaml`);
      fs.writeFileSync(file, bootstrap.stdout, { mode: 0o600 });
      const proc = this.processes.start(`envoy ${endpoint.name}`, this.envoyBin,
        ['-c', file, '--base-id', String(baseId + i), '--log-level', 'warn'], { cwd: this.workDir });
      started.push({ endpoint, proc });
    }
    await Promise.all(started.map(({ endpoint, proc }) => this.waitForEnvoy(endpoint, proc)));
  }

  private async waitForEnvoy(endpoint: EndpointPlan, proc: ManagedProcess): Promise<void> {
    const admin = this.admin(endpoint.name);
    await waitFor(`envoy ${endpoint.name}: /ready and its listeners in /config_dump`, async () => {
      if (!this.processes.live().includes(proc)) throw new Error(`envoy ${endpoint.name} exited:\n${this.processes.tail(proc)}`);
      if (!(await admin.ready())) return false;
      const listeners = activeListeners(await admin.configDump());
      return expectedListeners(endpoint).every((suffix) => listeners.some((name) => name.endsWith(suffix)));
    }, 45_000);
  }

  async verify(name: string, args: readonly string[] = []): Promise<{ code: number; output: string }> {
    const result = await runMeshdCli(['verify', '--envoy-admin', this.admin(name).baseUrl, ...args]);
    return { code: result.code, output: result.stdout + result.stderr };
  }

  async close(keepFiles = false): Promise<void> {
    await this.processes.teardown();
    if (!keepFiles) fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** A MeshFactory that runs the mesh with the Envoy binary at `envoyBin`. */
export function localMeshFactory(envoyBin: string): MeshFactory {
  return async (options) => {
    const mesh = new LocalMesh(fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-envoy-')), envoyBin, options);
    try {
      await mesh.setUp();
    } catch (err) {
      await mesh.close(true);
      throw new Error(`${(err as Error).message}\n(logs kept in ${path.join(mesh.workDir, 'logs')})`);
    }
    return mesh;
  };
}
