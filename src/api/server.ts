// The App Mesh REST-JSON API over HTTP: every request is signed (SigV4) with a key meshd issued,
// rate-limited per key, routed by App Mesh's own model to one of the 38 operations, and answered
// in App Mesh's shapes (a resource's data as the payload; errors as `x-amzn-ErrorType` and
// `{"message"}`). Binds loopback unless a public address is explicitly allowed.
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { logger } from '../log';
import { canonicalJson } from '../model/hash';
import { ClientTokens } from './client-tokens';
import { ApiError, badRequest } from './errors';
import type { ApiHandlers, ApiInput } from './handlers';
import type { KeyRing } from './keys';
import { RateLimiter, type RateLimitOptions } from './rate-limit';
import { project, type ApiOperation, type ServiceModel } from './service-model';
import { ReplayGuard, verifySignature } from './sigv4';

const log = logger('api');

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** Allows a non-loopback address (the API then answers anyone who holds a key). */
  readonly allowPublic?: boolean;
  readonly model: ServiceModel;
  readonly handlers: ApiHandlers;
  readonly keys: KeyRing;
  /** The region requests must be signed for (and ARNs name). */
  readonly region: string;
  readonly rateLimit: RateLimitOptions;
  /** How far a signature's time may be from now (default 5 minutes, as AWS). */
  readonly maxSkewMs?: number;
  /** Largest request body accepted (default 1 MiB). */
  readonly maxBodyBytes?: number;
}

/** Loopback addresses: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const plain = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  if (net.isIPv4(plain)) return plain.startsWith('127.');
  return plain === '::1' || plain === 'localhost';
}

interface Routed {
  readonly operation: ApiOperation;
  readonly labels: readonly string[];
}

export class ApiServer {
  private readonly server: http.Server;
  private readonly limiter: RateLimiter;
  private readonly replays: ReplayGuard;
  private readonly clientTokens = new ClientTokens();
  private bound: { host: string; port: number } | undefined;

  constructor(private readonly options: ApiServerOptions) {
    if (!isLoopbackHost(options.host) && !options.allowPublic) {
      throw new Error(`--api ${options.host}: not a loopback address; the App Mesh API binds a public address only with --api-public`);
    }
    this.limiter = new RateLimiter(options.rateLimit);
    this.replays = new ReplayGuard(this.maxSkewMs);
    this.server = http.createServer((req, res) => void this.serve(req, res));
  }

  private get maxSkewMs(): number {
    return this.options.maxSkewMs ?? 5 * 60_000;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = this.server.address() as net.AddressInfo;
    this.bound = { host: address.address, port: address.port };
  }

  /** `http://127.0.0.1:PORT`, for `--endpoint-url`. */
  get url(): string {
    const host = this.bound?.host ?? this.options.host;
    return `http://${net.isIPv6(host) ? `[${host}]` : host}:${this.bound?.port ?? this.options.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestId = randomUUID();
    let operationName = 'unknown';
    let accessKeyId: string | undefined;
    try {
      const body = await this.readBody(req);
      const verdict = verifySignature(
        { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
        { region: this.options.region, service: this.options.model.signingName, secretOf: (id) => this.options.keys.get(id)?.secretAccessKey, maxSkewMs: this.maxSkewMs },
      );
      accessKeyId = verdict.accessKeyId;
      this.replays.check(verdict.signature, verdict.signedAt);
      if (!this.limiter.take(verdict.accessKeyId)) throw new ApiError('TooManyRequestsException', 'Rate exceeded');
      const { operation, labels } = this.route(req.method ?? 'GET', req.url ?? '/');
      operationName = operation.name;
      const key = this.options.keys.get(verdict.accessKeyId);
      if (!operation.readOnly && key?.access !== 'read-write') {
        throw new ApiError('ForbiddenException', `access key ${verdict.accessKeyId} is read-only; ${operation.name} needs a read-write key`);
      }
      const input = this.inputOf(operation, labels, req.url ?? '/', body);
      const tokenMember = operation.members.find((member) => member.idempotencyToken);
      const token = tokenMember ? input[tokenMember.name] : undefined;
      const { [tokenMember?.name ?? '']: _token, ...fingerprinted } = input;
      const output = await this.clientTokens.once(
        operation.name,
        typeof token === 'string' ? token : undefined,
        canonicalJson(fingerprinted),
        () => this.options.handlers.handle(operation.name, input),
      );
      const projected = project(this.options.model, operation.output, output) as Record<string, unknown>;
      const payload = operation.output.payload ? projected[operation.output.payload] : projected;
      this.send(res, operation.responseCode, requestId, JSON.stringify(payload ?? {}));
      log.info({ operation: operationName, accessKeyId, status: operation.responseCode, requestId }, `${operationName} ${operation.responseCode}`);
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError('InternalServerErrorException', 'meshd could not complete the request; see its log');
      if (!(err instanceof ApiError)) log.error({ operation: operationName, requestId, err: (err as Error).message }, 'API request failed');
      res.setHeader('x-amzn-ErrorType', error.errorName);
      this.send(res, error.status, requestId, JSON.stringify({ message: error.message }));
      log.info({ operation: operationName, accessKeyId, status: error.status, error: error.errorName, requestId }, `${operationName} ${error.status} ${error.errorName}: ${error.message}`);
    }
  }

  private send(res: http.ServerResponse, status: number, requestId: string, body: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-RequestId': requestId, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private readBody(req: http.IncomingMessage): Promise<Buffer> {
    const max = this.options.maxBodyBytes ?? 1024 * 1024;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      // Past the limit the rest is read and dropped, so the refusal can still be answered.
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= max) chunks.push(chunk);
      });
      req.on('end', () => (size > max ? reject(badRequest(`request body is larger than ${max} bytes (meshd serve --api-max-body)`)) : resolve(Buffer.concat(chunks))));
      req.on('error', reject);
    });
  }

  private route(method: string, url: string): Routed {
    const path = url.split('?')[0]!;
    for (const operation of this.options.model.operations.values()) {
      if (operation.method !== method) continue;
      const match = operation.pattern.exec(path);
      if (match) return { operation, labels: match.slice(1) };
    }
    throw new ApiError('NotFoundException', `no App Mesh ${this.options.model.apiVersion} operation answers ${method} ${path}`);
  }

  /** Every input member, from the path labels, the query string and the JSON body. */
  private inputOf(operation: ApiOperation, labels: readonly string[], url: string, body: Buffer): ApiInput {
    const input: Record<string, unknown> = {};
    operation.labels.forEach((label, i) => {
      const member = operation.members.find((m) => m.location === 'uri' && m.wireName === label);
      try {
        input[member?.name ?? label] = decodeURIComponent(labels[i]!);
      } catch {
        throw badRequest(`${label}: is not percent-encoded correctly`);
      }
    });
    const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
    for (const member of operation.members.filter((m) => m.location === 'querystring')) {
      const value = query.get(member.wireName);
      if (value === null) continue;
      const type = this.options.model.resolve(member.shape).type;
      if (type === 'integer' || type === 'long') {
        const number = Number(value);
        if (!Number.isInteger(number)) throw badRequest(`${member.name}: must be a whole number`);
        input[member.name] = number;
      } else {
        input[member.name] = value;
      }
    }
    if (body.length > 0) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw badRequest(`request body is not JSON: ${(err as Error).message}`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('request body must be a JSON object');
      const bodyMembers = new Set(operation.members.filter((m) => m.location === 'body').map((m) => m.name));
      for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
        if (!bodyMembers.has(name)) throw badRequest(`${name}: is not a member of ${operation.name}'s input`);
        input[name] = value;
      }
    }
    const missing = operation.required.filter((name) => input[name] === undefined || input[name] === '');
    if (missing.length > 0) throw badRequest(missing.map((name) => `${name}: is required`).join('; '));
    return input;
  }
}
