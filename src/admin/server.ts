// The operator's HTTP endpoint: health, readiness, Prometheus metrics, a JSON status of proxies,
// mesh and secrets, a per-node config dump, and the operator actions. It binds loopback unless
// told otherwise, and actions are refused unless they come over loopback or carry the admin
// token. Every JSON body has node credentials redacted, and a body that would contain private
// key material is never sent, whatever an injected source returns.
import * as http from 'node:http';
import * as net from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import { logger } from '../log';
import { NodeIdError, parseNodeId } from '../identity/endpoint-id';
import { dumpNodeConfig, redactCredentials } from './config-dump';
import type { MeshdMetrics } from './metrics';
import { containsPrivateKey } from './key-guard';
import { buildMeshView, type MeshViewSources } from './mesh-view';
import { UI_CONTENT_SECURITY_POLICY, UiAssets } from './ui-assets';
import type { ViewChanges } from './view-changes';
import { ViewStream } from './view-stream';
import type { StreamRegistry } from './stream-registry';
import type { AdminActions, FleetStatus, MeshStatus, ReadinessCheck, SecretStatus, SecretView, SnapshotSource } from './types';
import type { MeshEndpointId } from '../identity/endpoint-id';
import type { NodeCredentialStatus } from '../auth/node-credential';

const log = logger('admin');

export interface AdminServerOptions {
  /** Default 127.0.0.1. A non-loopback address needs `allowPublic`. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Allows binding a non-loopback address. */
  allowPublic?: boolean;
  /** Bearer token accepted for POST actions from anywhere. */
  adminToken?: string;
  /** Whether loopback requests may act without the token (default true). */
  trustLoopback?: boolean;
  registry: StreamRegistry;
  metrics: MeshdMetrics;
  snapshots: SnapshotSource;
  meshStatus?: () => MeshStatus;
  secretStatus?: () => SecretStatus[] | Promise<SecretStatus[]>;
  /** A node's secrets for /config_dump, public parts only. */
  secretsFor?: (endpoint: MeshEndpointId) => SecretView[] | Promise<SecretView[]>;
  readiness?: readonly ReadinessCheck[];
  actions?: AdminActions;
  /** The node credential keys and revocations (fingerprints and times only). */
  credentialStatus?: () => NodeCredentialStatus;
  /** The mesh view (/ui, /view, /view/events): its facts and the signal that they changed. */
  view?: { sources: MeshViewSources; changes: ViewChanges; coalesceMs?: number };
  /** With a shared store: every replica and the proxies each serves (absent on one machine). */
  fleet?: () => FleetStatus | undefined;
}

/** What /status returns. */
export interface StatusDocument {
  /** ISO 8601: when this document was made; ages in it are relative to this. */
  generatedAt: string;
  proxies: ReturnType<StreamRegistry['proxies']>;
  recentlyClosed: ReturnType<StreamRegistry['recentlyClosed']>;
  mesh: MeshStatus | null;
  secrets: SecretStatus[];
  /** Which key makes node credentials, which are being retired (until when), which endpoints were revoked. */
  nodeCredentials: NodeCredentialStatus | null;
  /** Replicas on a shared store: the whole fleet, and which replica serves each proxy. `proxies` are this replica's. */
  fleet?: FleetStatus;
}

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Loopback addresses: 127.0.0.0/8, ::1 and their IPv4-mapped form. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (net.isIPv4(plain)) return plain.startsWith('127.');
  return plain === '::1' || plain === 'localhost';
}

/** Whether a request may run an operator action. */
export function actionAllowed(request: { remoteAddress: string | undefined; authorization: string | undefined }, policy: { adminToken?: string; trustLoopback?: boolean }): boolean {
  if ((policy.trustLoopback ?? true) && isLoopbackAddress(request.remoteAddress)) return true;
  if (!policy.adminToken) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? '');
  if (!match) return false;
  // Compare digests so the comparison is constant-time whatever the lengths.
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(match[1]!), digest(policy.adminToken));
}

type Handler = (url: URL, req: http.IncomingMessage) => Promise<{ status?: number; json?: unknown; text?: string; contentType?: string }>;

export class AdminServer {
  private readonly server: http.Server;
  private readonly routes: Map<string, Map<string, Handler>>;
  private readonly assets = new UiAssets();
  private readonly viewStream: ViewStream | undefined;
  address: { host: string; port: number } | undefined;

  constructor(private readonly options: AdminServerOptions) {
    const host = options.host ?? '127.0.0.1';
    if (!isLoopbackAddress(host) && !options.allowPublic) {
      throw new Error(`admin address ${host} is not loopback: pass --admin-public to serve the admin endpoint beyond loopback (and set MESHD_ADMIN_TOKEN), or give a loopback --admin such as 127.0.0.1:18001`);
    }
    this.routes = new Map<string, Map<string, Handler>>([
      ['/healthz', new Map([['GET', async () => ({ json: { status: 'ok', uptimeSeconds: Math.round(process.uptime()) } })]])],
      ['/readyz', new Map([['GET', () => this.readiness()]])],
      ['/metrics', new Map([['GET', async () => ({ text: await options.metrics.text(), contentType: options.metrics.contentType })]])],
      ['/status', new Map([['GET', async () => ({ json: await this.status() })]])],
      ['/config_dump', new Map([['GET', (url) => this.configDump(url)]])],
      ['/rotate', new Map([['POST', (url, req) => this.act(req, 'rotate', () => options.actions?.rotate?.(nodeKeyParam(url)))]])],
      ['/ca/rollover', new Map([['POST', (_url, req) => this.act(req, 'caRollover', () => options.actions?.caRollover?.())]])],
      ['/credentials/rotate', new Map([['POST', (url, req) => this.act(req, 'rotateCredentialKey', () => options.actions?.rotateCredentialKey?.(overlapParam(url)))]])],
      ['/credentials/revoke', new Map([['POST', (url, req) => this.act(req, 'revokeCredential', () => options.actions?.revokeCredential?.(requiredNodeKeyParam(url)))]])],
      ['/view', new Map([['GET', async () => ({ json: this.view() })]])],
    ]);
    const view = options.view;
    if (view) this.viewStream = new ViewStream({ build: () => this.view(), changes: view.changes, ...(view.coalesceMs !== undefined ? { coalesceMs: view.coalesceMs } : {}) });
    this.server = http.createServer((req, res) => void this.dispatch(req, res));
  }

  async start(): Promise<{ host: string; port: number }> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const bound = this.server.address() as net.AddressInfo;
    this.address = { host, port: bound.port };
    log.info({ address: `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}` }, 'admin endpoint listening');
    return this.address;
  }

  /** The base URL, once started. */
  get url(): string {
    if (!this.address) throw new Error('admin server not started');
    const { host, port } = this.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  async close(): Promise<void> {
    this.viewStream?.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The /status document. */
  async status(): Promise<StatusDocument> {
    const fleet = this.options.fleet?.();
    return {
      generatedAt: new Date().toISOString(),
      proxies: this.options.registry.proxies(),
      recentlyClosed: this.options.registry.recentlyClosed(),
      mesh: this.options.meshStatus?.() ?? null,
      secrets: (await this.options.secretStatus?.()) ?? [],
      nodeCredentials: this.options.credentialStatus?.() ?? null,
      ...(fleet ? { fleet } : {}),
    };
  }

  /** The mesh view now; a 404 where this meshd has none. */
  view(): ReturnType<typeof buildMeshView> {
    if (!this.options.view) throw new HttpError(404, 'this meshd has no mesh view');
    return buildMeshView(this.options.view.sources);
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method === 'GET' && url.pathname === '/view/events' && this.viewStream) {
      this.viewStream.attach(req, res);
      return;
    }
    const asset = req.method === 'GET' && this.options.view ? this.assets.get(url.pathname) : undefined;
    if (asset) {
      req.resume();
      res.writeHead(200, { 'Content-Type': asset.contentType, 'Cache-Control': 'no-cache', 'Content-Security-Policy': UI_CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' });
      res.end(asset.body);
      return;
    }
    const route = this.routes.get(url.pathname);
    // The body is never read; drain it so the connection stays usable.
    req.resume();
    try {
      if (!route) throw new HttpError(404, `no such admin endpoint: ${url.pathname}`);
      const handler = route.get(req.method ?? 'GET');
      if (!handler) {
        res.setHeader('Allow', [...route.keys()].join(', '));
        throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}; use ${[...route.keys()].join(' or ')}`);
      }
      const result = await handler(url, req);
      const body = result.json !== undefined ? `${JSON.stringify(redactCredentials(result.json), null, 2)}\n` : result.text ?? '';
      if (containsPrivateKey(body)) {
        log.error({ path: url.pathname }, 'refused to send an admin response containing private key material; a status source is leaking keys');
        throw new HttpError(500, `the response for ${url.pathname} would contain private key material; it was withheld`);
      }
      res.writeHead(result.status ?? 200, { 'Content-Type': result.contentType ?? (result.json !== undefined ? 'application/json' : 'text/plain; charset=utf-8'), 'Cache-Control': 'no-store' });
      res.end(body);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status === 500) log.error({ path: url.pathname, error: message }, 'admin request failed');
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(`${JSON.stringify({ error: message })}\n`);
    }
  }

  private async readiness(): Promise<{ status: number; json: unknown }> {
    const checks = await Promise.all((this.options.readiness ?? []).map(async (c) => {
      try {
        const result = await c.check();
        return result === true ? { name: c.name, ok: true } : { name: c.name, ok: false, detail: typeof result === 'string' ? result : 'not ready' };
      } catch (err) {
        return { name: c.name, ok: false, detail: err instanceof Error ? err.message : String(err) };
      }
    }));
    const failing = checks.filter((c) => !c.ok).map((c) => c.name);
    return { status: failing.length === 0 ? 200 : 503, json: { ready: failing.length === 0, failing, checks } };
  }

  private async configDump(url: URL): Promise<{ json: unknown }> {
    const nodeId = url.searchParams.get('node');
    if (!nodeId) throw new HttpError(400, '/config_dump needs ?node=<node id>');
    let endpoint: MeshEndpointId;
    try {
      endpoint = parseNodeId(nodeId);
    } catch (err) {
      if (err instanceof NodeIdError) throw new HttpError(400, err.message);
      throw err;
    }
    const secrets = (await this.options.secretsFor?.(endpoint)) ?? [];
    const dump = dumpNodeConfig(endpoint, nodeId, this.options.snapshots, secrets);
    if (!dump) throw new HttpError(404, `meshd has no configuration for ${endpoint.key}`);
    return { json: dump };
  }

  private async act(req: http.IncomingMessage, name: keyof AdminActions, run: () => Promise<unknown> | undefined): Promise<{ json: unknown }> {
    const allowed = actionAllowed(
      { remoteAddress: req.socket.remoteAddress, authorization: req.headers.authorization },
      { ...(this.options.adminToken ? { adminToken: this.options.adminToken } : {}), ...(this.options.trustLoopback === undefined ? {} : { trustLoopback: this.options.trustLoopback }) },
    );
    if (!allowed) {
      log.warn({ action: name, remote: req.socket.remoteAddress }, 'refused an admin action: not loopback and no valid admin token');
      throw new HttpError(403, `${name} needs a loopback request or "Authorization: Bearer <admin token>"`);
    }
    if (!this.options.actions?.[name]) throw new HttpError(404, `${name} is not available in this meshd`);
    const result = await run();
    log.info({ action: name }, 'admin action done');
    return { json: result ?? { message: 'done' } };
  }
}

/** Default overlap of a node credential key rotation: a day to print every bootstrap again. */
export const DEFAULT_CREDENTIAL_OVERLAP_SECONDS = 24 * 3600;

/** `?overlap=SECONDS` (default a day) in milliseconds; anything but a whole number of seconds is a 400. */
function overlapParam(url: URL): number {
  const given = url.searchParams.get('overlap');
  if (given === null) return DEFAULT_CREDENTIAL_OVERLAP_SECONDS * 1000;
  if (!/^\d{1,9}$/.test(given)) throw new HttpError(400, `overlap=${given.slice(0, 40)}: expected a whole number of seconds`);
  return Number(given) * 1000;
}

function requiredNodeKeyParam(url: URL): string {
  const key = nodeKeyParam(url);
  if (!key) throw new HttpError(400, 'give the node whose credentials to revoke: ?node=mesh/<mesh>/virtualNode/<name>');
  return key;
}

/** `?node=ID` as a canonical endpoint key; an invalid id is a 400. */
function nodeKeyParam(url: URL): string | undefined {
  const nodeId = url.searchParams.get('node');
  if (!nodeId) return undefined;
  try {
    return parseNodeId(nodeId).key;
  } catch (err) {
    if (err instanceof NodeIdError) throw new HttpError(400, err.message);
    throw err;
  }
}
