// Docker mode: the same scenarios against docker-compose.envoy.yml. Each scenario gets its own
// compose project (`up -d --build --wait`, then `down -v`), with the spec copied to a temp
// directory the meshd container watches (MESHD_MESH_DIR) and the leaf TTL passed through
// MESHD_LEAF_TTL. Envoy admin and ingress ports are published on the host's loopback 1:1.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COMPOSE_MESH_DIR } from './compose-mesh';
import { waitFor, type MeshFactory, type MeshStartOptions, type MeshUnderTest } from './harness';
import { planMesh, type EndpointPlan } from './mesh-plan';
import { REPO_ROOT, runMeshdCli } from './runner';
import { SpecFiles } from './spec-files';
import { PlannedMesh } from './planned-mesh';

export const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.envoy.yml');

/** Runs `docker compose -f docker-compose.envoy.yml ...args` for a project. */
export function compose(project: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('docker', ['compose', '-f', COMPOSE_FILE, '-p', project, ...args], { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, cwd: REPO_ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

class DockerMesh extends PlannedMesh implements MeshUnderTest {
  readonly mode = 'docker' as const;
  readonly trustDomain = 'meshd.local';
  readonly meshdAdminUrl = undefined;
  readonly endpoints: EndpointPlan[];
  readonly project = `meshd-e2e-${process.pid}-${Date.now().toString(36)}`;
  private readonly specDir: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(readonly workDir: string, options: MeshStartOptions) {
    super();
    this.specDir = path.join(workDir, 'mesh');
    fs.cpSync(COMPOSE_MESH_DIR, this.specDir, { recursive: true });
    if (options.prepareSpec) {
      const spec = this.spec();
      options.prepareSpec(spec);
      spec.save();
    }
    this.endpoints = planMesh(this.specDir);
    this.env = {
      ...process.env,
      MESHD_MESH_DIR: this.specDir,
      ...(options.leafTtlSeconds ? { MESHD_LEAF_TTL: String(options.leafTtlSeconds) } : {}),
    };
  }

  private async run(args: readonly string[]): Promise<string> {
    const result = await compose(this.project, args, this.env);
    if (result.code !== 0) throw new Error(`docker compose ${args.join(' ')} exited ${result.code}: ${result.stderr.slice(-2000)}`);
    return result.stdout;
  }

  get gatewayUrl(): string {
    return `https://127.0.0.1:${this.endpoints.find((e) => e.kind === 'virtualGateway')!.ingressPort}`;
  }


  async caBundlePem(): Promise<string> {
    return this.run(['exec', '-T', 'meshd', 'sh', '-c', 'cat /var/lib/meshd/ca/*/ca.crt']);
  }

  spec(): SpecFiles {
    return new SpecFiles(this.specDir);
  }

  async meshdLog(): Promise<string> {
    return this.run(['logs', '--no-color', 'meshd']);
  }

  async up(): Promise<void> {
    await this.run(['up', '-d', '--build', '--wait']);
    for (const endpoint of this.endpoints) {
      await waitFor(`envoy ${endpoint.name} ready on 127.0.0.1:${endpoint.adminPort}`, () => this.admin(endpoint.name).ready(), 120_000, 500);
    }
  }

  async stopMeshd(): Promise<void> {
    await this.run(['stop', 'meshd']);
  }

  async startMeshd(): Promise<void> {
    await this.run(['start', 'meshd']);
  }

  async verify(name: string, args: readonly string[] = []): Promise<{ code: number; output: string }> {
    const result = await runMeshdCli(['verify', '--envoy-admin', this.admin(name).baseUrl, ...args]);
    return { code: result.code, output: result.stdout + result.stderr };
  }

  async close(keepFiles = false): Promise<void> {
    if (keepFiles) fs.writeFileSync(path.join(this.workDir, 'compose.log'), await this.run(['logs', '--no-color']).catch((err: Error) => err.message));
    await compose(this.project, ['down', '-v', '--remove-orphans'], this.env);
    if (!keepFiles) fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** A MeshFactory that brings the mesh up with docker compose. */
export function dockerMeshFactory(): MeshFactory {
  return async (options) => {
    const mesh = new DockerMesh(fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-compose-')), options);
    try {
      await mesh.up();
    } catch (err) {
      await mesh.close(true);
      throw new Error(`${(err as Error).message}\n(compose logs kept in ${mesh.workDir})`);
    }
    return mesh;
  };
}
