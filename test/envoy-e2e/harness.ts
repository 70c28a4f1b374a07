// What a scenario drives, whichever way the mesh runs (local Envoy processes or docker compose):
// the endpoints and their admin endpoints, the gateway, the spec directory meshd watches, meshd's
// life cycle, and `meshd verify`. Plus the traffic the scenarios send: single requests through
// the gateway (verifying its certificate against meshd's CA and its SPIFFE identity) and a
// steady background load whose every failure is recorded with its reason.
import * as https from 'node:https';
import type { PeerCertificate } from 'node:tls';
import type { EnvoyAdmin } from './envoy-admin';
import type { EndpointPlan } from './mesh-plan';
import type { SpecFiles } from './spec-files';

export interface MeshStartOptions {
  /** Leaf certificate lifetime for meshd (`--leaf-ttl`); meshd's default when absent. */
  leafTtlSeconds?: number;
  /** Changes to the spec copy before anything starts (a scenario's starting point). */
  prepareSpec?: (spec: SpecFiles) => void;
}

/** A running mesh: meshd, the applications and one Envoy per endpoint. */
export interface MeshUnderTest {
  readonly mode: 'envoy-bin' | 'docker';
  readonly trustDomain: string;
  readonly endpoints: readonly EndpointPlan[];
  endpoint(name: string): EndpointPlan;
  admin(name: string): EnvoyAdmin;
  /** `https://host:port` of the gateway's TLS listener. */
  readonly gatewayUrl: string;
  /** Host and port where an endpoint's ingress listener is reachable from the runner. */
  ingressAddress(name: string): { host: string; port: number };
  /** PEM of every CA certificate meshd has (current and, during a rollover, previous). */
  caBundlePem(): Promise<string>;
  /** The spec directory meshd watches, opened for editing (save() applies the change). */
  spec(): SpecFiles;
  /** What meshd has logged so far (to see a refused change named). */
  meshdLog(): Promise<string>;
  stopMeshd(): Promise<void>;
  startMeshd(): Promise<void>;
  /** meshd's admin base URL when it has one (`serve --admin`), else undefined. */
  readonly meshdAdminUrl: string | undefined;
  /** Runs `meshd verify --envoy-admin <admin of name> ...args`; resolves with exit code and output. */
  verify(name: string, args?: readonly string[]): Promise<{ code: number; output: string }>;
  /** Where this mesh keeps its files and logs (kept for a failed scenario). */
  readonly workDir: string;
  /** Stops everything this mesh started; removes its files unless `keepFiles`. */
  close(keepFiles?: boolean): Promise<void>;
}

/** Starts a fresh mesh for one scenario. */
export type MeshFactory = (options: MeshStartOptions) => Promise<MeshUnderTest>;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value (not undefined/false) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`);
    await sleep(everyMs);
  }
}

export interface GatewayResponse {
  status: number;
  body: string;
}

/** The SPIFFE ID meshd gives an endpoint's certificate. */
export function spiffeIdOf(trustDomain: string, endpoint: EndpointPlan): string {
  return `spiffe://${trustDomain}/mesh/${endpoint.mesh}/${endpoint.kind}/${endpoint.name}`;
}

/**
 * One request through the gateway on a new TLS connection: the chain must verify against meshd's
 * CA and the certificate must carry the gateway's SPIFFE ID (a gateway has no DNS name to check).
 */
export async function gatewayRequest(mesh: MeshUnderTest, path: string, caPem?: string): Promise<GatewayResponse> {
  const ca = caPem ?? await mesh.caBundlePem();
  const gateway = mesh.endpoints.find((e) => e.kind === 'virtualGateway');
  if (!gateway) throw new Error('the mesh has no virtual gateway');
  const expected = `URI:${spiffeIdOf(mesh.trustDomain, gateway)}`;
  const checkServerIdentity = (_host: string, cert: PeerCertificate): Error | undefined => {
    const sans = (cert.subjectaltname ?? '').split(', ');
    return sans.includes(expected) ? undefined : new Error(`gateway certificate SANs ${cert.subjectaltname ?? '(none)'} lack ${expected}`);
  };
  return new Promise((resolve, reject) => {
    const request = https.get(new URL(path, mesh.gatewayUrl), { ca, checkServerIdentity, agent: false, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${mesh.gatewayUrl}${path}: no answer within 10 s`)));
    request.on('error', reject);
  });
}

/** The application names a gateway answer passed through, outermost first (`front`, `color-blue`). */
export function appsOnPath(body: string): string[] {
  const names: string[] = [];
  let answer: { app?: string; upstream?: unknown } | undefined = JSON.parse(body) as { app?: string; upstream?: unknown };
  while (answer && typeof answer.app === 'string') {
    names.push(answer.app);
    answer = answer.upstream as typeof answer;
  }
  return names;
}

/** A request through the gateway that must succeed end to end (front and a color app). */
export async function expectThroughGateway(mesh: MeshUnderTest, path: string): Promise<string[]> {
  const response = await gatewayRequest(mesh, path);
  if (response.status !== 200) throw new Error(`GET ${path} through the gateway: ${response.status} ${response.body.slice(0, 300)}`);
  const apps = appsOnPath(response.body);
  if (apps[0] !== 'front' || !/^color-/.test(apps[1] ?? '')) throw new Error(`GET ${path}: unexpected path through the mesh: ${apps.join(' -> ')}`);
  return apps;
}

/** Summary of a background load. */
export interface LoadResult {
  sent: number;
  ok: number;
  failures: string[];
  /** Which color applications answered, with counts. */
  answeredBy: Map<string, number>;
}

/**
 * Steady requests through the gateway, `concurrency` at a time, each on a fresh TLS connection
 * (so every request is also a handshake on every hop Envoy does not pool). The CA bundle is read
 * again every `caRefreshMs`, as a real client of a rotating CA would.
 */
export class BackgroundLoad {
  private running = true;
  private readonly workers: Promise<void>[] = [];
  private ca: string | undefined;
  private readonly caRefreshMs: number;
  private readonly result: LoadResult = { sent: 0, ok: 0, failures: [], answeredBy: new Map() };

  constructor(private readonly mesh: MeshUnderTest, concurrency = 2, private readonly pauseMs = 20, caRefreshMs = 1000) {
    // 0: read the bundle before every request (cheap for local files; catches a CA rollover at once).
    this.caRefreshMs = caRefreshMs;
    if (caRefreshMs > 0) this.workers.push(this.refreshCa(caRefreshMs));
    for (let i = 0; i < concurrency; i++) this.workers.push(this.worker(i));
  }

  private async refreshCa(everyMs: number): Promise<void> {
    while (this.running) {
      try {
        this.ca = await this.mesh.caBundlePem();
      } catch (err) {
        this.result.failures.push(`reading the CA bundle: ${(err as Error).message}`);
      }
      await sleep(everyMs);
    }
  }

  private async worker(id: number): Promise<void> {
    while (this.running) {
      if (this.caRefreshMs === 0) {
        try {
          this.ca = await this.mesh.caBundlePem();
        } catch (err) {
          this.result.failures.push(`reading the CA bundle: ${(err as Error).message}`);
        }
      }
      if (this.ca === undefined) {
        await sleep(50);
        continue;
      }
      this.result.sent++;
      const path = `/load/${id}/${this.result.sent}`;
      try {
        const response = await gatewayRequest(this.mesh, path, this.ca);
        const apps = response.status === 200 ? appsOnPath(response.body) : [];
        if (response.status === 200 && apps[0] === 'front' && apps[1]) {
          this.result.ok++;
          this.result.answeredBy.set(apps[1], (this.result.answeredBy.get(apps[1]) ?? 0) + 1);
        } else {
          this.result.failures.push(`${new Date().toISOString()} ${path}: ${response.status} ${response.body.slice(0, 200)}`);
        }
      } catch (err) {
        this.result.failures.push(`${new Date().toISOString()} ${path}: ${(err as Error).message}`);
      }
      await sleep(this.pauseMs);
    }
  }

  /** Requests that succeeded so far. */
  get ok(): number {
    return this.result.ok;
  }

  /** Stops after the requests in flight and returns the summary. */
  async stop(): Promise<LoadResult> {
    this.running = false;
    await Promise.all(this.workers);
    return this.result;
  }
}

/** Throws unless the load sent at least `minimum` requests and not one of them failed. */
export function expectNoFailures(what: string, result: LoadResult, minimum = 10): void {
  if (result.failures.length > 0) {
    throw new Error(`${what}: ${result.failures.length} of ${result.sent} requests failed; first: ${result.failures.slice(0, 5).join(' | ')}`);
  }
  if (result.ok < minimum) throw new Error(`${what}: only ${result.ok} requests succeeded (expected at least ${minimum})`);
}
