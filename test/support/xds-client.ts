// A plain gRPC client speaking xDS to the real server, for protocol tests: it encodes requests
// and decodes responses with Envoy's protos, and queues what arrives so a test can await the
// next response, or assert that none comes.
import * as grpc from '@grpc/grpc-js';
import { messageType } from '../../src/xds/protos';
import { TypeUrl } from '../../src/xds/type-urls';

export interface DecodedAny { typeUrl: string; value: Uint8Array }
export interface SotwResponse { versionInfo: string; resources: DecodedAny[]; typeUrl: string; nonce: string }
export interface DeltaResource { name: string; version: string; resource?: DecodedAny }
export interface DeltaResponse { systemVersionInfo: string; resources: DeltaResource[]; typeUrl: string; nonce: string; removedResources: string[] }

export interface SotwRequestInput {
  typeUrl?: string;
  resourceNames?: string[];
  versionInfo?: string;
  responseNonce?: string;
  errorDetail?: { code: number; message: string };
  node?: { id: string; cluster?: string };
}

export interface DeltaRequestInput {
  typeUrl?: string;
  resourceNamesSubscribe?: string[];
  resourceNamesUnsubscribe?: string[];
  initialResourceVersions?: Record<string, string>;
  responseNonce?: string;
  errorDetail?: { code: number; message: string };
  node?: { id: string };
}

const raw = (b: Buffer): Buffer => b;

function anyOf(value: { type_url?: string; value?: Uint8Array } | undefined): DecodedAny | undefined {
  if (!value) return undefined;
  return { typeUrl: value.type_url ?? '', value: value.value ?? new Uint8Array() };
}

/** Decodes a resource of a response into a plain object with camelCase fields. */
export function decodeResource<T = Record<string, unknown>>(any: DecodedAny): T {
  const Type = messageType(any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1));
  return Type.toObject(Type.decode(any.value), { enums: String, longs: Number, defaults: false }) as T;
}

export function resourceName(any: DecodedAny): string {
  return (decodeResource<{ name?: string; clusterName?: string }>(any).name ?? decodeResource<{ clusterName?: string }>(any).clusterName) as string;
}

/** A queue of arrivals that a test awaits one at a time. */
class Inbox<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T) => void) | undefined;
  status: grpc.StatusObject | undefined;
  private statusWaiters: ((status: grpc.StatusObject) => void)[] = [];

  push(item: T): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(item);
    } else this.items.push(item);
  }

  setStatus(status: grpc.StatusObject): void {
    this.status = status;
    for (const w of this.statusWaiters) w(status);
    this.statusWaiters = [];
  }

  next(timeoutMs = 5000): Promise<T> {
    const queued = this.items.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no response within ${timeoutMs} ms${this.status ? ` (stream ended: ${this.status.code} ${this.status.details})` : ''}`));
      }, timeoutMs);
      this.waiter = (item) => {
        clearTimeout(timer);
        resolve(item);
      };
    });
  }

  /** Resolves true if nothing arrives within the window. */
  async quiet(windowMs = 300): Promise<boolean> {
    if (this.items.length > 0) return false;
    try {
      await this.next(windowMs);
      return false;
    } catch {
      return true;
    }
  }

  pendingCount(): number {
    return this.items.length;
  }

  /** Every response received and not yet taken, taken now. */
  drain(): T[] {
    return this.items.splice(0);
  }

  ended(timeoutMs = 5000): Promise<grpc.StatusObject> {
    if (this.status) return Promise.resolve(this.status);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('stream did not end')), timeoutMs);
      this.statusWaiters.push((s) => {
        clearTimeout(timer);
        resolve(s);
      });
    });
  }
}

const SERVICE_PATHS = {
  ads: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
  adsDelta: '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
  cds: '/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters',
  cdsDelta: '/envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters',
  lds: '/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners',
  eds: '/envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints',
  rds: '/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes',
  sds: '/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets',
  sdsDelta: '/envoy.service.secret.v3.SecretDiscoveryService/DeltaSecrets',
} as const;

export type SotwPath = 'ads' | 'cds' | 'lds' | 'eds' | 'rds' | 'sds';
export type DeltaPath = 'adsDelta' | 'cdsDelta' | 'sdsDelta';

export class XdsTestClient {
  readonly client: grpc.Client;

  constructor(target: string, credentials = grpc.credentials.createInsecure()) {
    this.client = new grpc.Client(target, credentials);
  }

  sotw(pathName: SotwPath = 'ads', metadata = new grpc.Metadata()): SotwTestStream {
    const call = this.client.makeBidiStreamRequest(SERVICE_PATHS[pathName], raw, raw, metadata);
    return new SotwTestStream(call);
  }

  delta(pathName: DeltaPath = 'adsDelta', metadata = new grpc.Metadata()): DeltaTestStream {
    const call = this.client.makeBidiStreamRequest(SERVICE_PATHS[pathName], raw, raw, metadata);
    return new DeltaTestStream(call);
  }

  close(): void {
    this.client.close();
  }
}

export class SotwTestStream {
  readonly inbox = new Inbox<SotwResponse>();
  private readonly Request = messageType('envoy.service.discovery.v3.DiscoveryRequest');
  private readonly Response = messageType('envoy.service.discovery.v3.DiscoveryResponse');

  constructor(readonly call: grpc.ClientDuplexStream<Buffer, Buffer>) {
    call.on('data', (bytes: Buffer) => {
      const r = this.Response.toObject(this.Response.decode(bytes)) as { versionInfo?: string; resources?: { type_url?: string; value?: Uint8Array }[]; typeUrl?: string; nonce?: string };
      this.inbox.push({
        versionInfo: r.versionInfo ?? '',
        resources: (r.resources ?? []).map((a) => anyOf(a)!),
        typeUrl: r.typeUrl ?? '',
        nonce: r.nonce ?? '',
      });
    });
    call.on('status', (status: grpc.StatusObject) => this.inbox.setStatus(status));
    call.on('error', () => undefined);
  }

  send(input: SotwRequestInput): void {
    this.call.write(Buffer.from(this.Request.encode(this.Request.fromObject({ typeUrl: TypeUrl.Cluster, ...input })).finish()));
  }

  /** Sends an ACK for a response. */
  ack(response: SotwResponse, resourceNames?: string[]): void {
    this.send({ typeUrl: response.typeUrl, versionInfo: response.versionInfo, responseNonce: response.nonce, ...(resourceNames ? { resourceNames } : {}) });
  }

  next(timeoutMs?: number): Promise<SotwResponse> {
    return this.inbox.next(timeoutMs);
  }

  end(): void {
    this.call.end();
  }
}

export class DeltaTestStream {
  readonly inbox = new Inbox<DeltaResponse>();
  private readonly Request = messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
  private readonly Response = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');

  constructor(readonly call: grpc.ClientDuplexStream<Buffer, Buffer>) {
    call.on('data', (bytes: Buffer) => {
      const r = this.Response.toObject(this.Response.decode(bytes)) as {
        systemVersionInfo?: string; typeUrl?: string; nonce?: string; removedResources?: string[];
        resources?: { name?: string; version?: string; resource?: { type_url?: string; value?: Uint8Array } }[];
      };
      this.inbox.push({
        systemVersionInfo: r.systemVersionInfo ?? '',
        typeUrl: r.typeUrl ?? '',
        nonce: r.nonce ?? '',
        removedResources: r.removedResources ?? [],
        resources: (r.resources ?? []).map((res) => {
          const out: DeltaResource = { name: res.name ?? '', version: res.version ?? '' };
          const any = anyOf(res.resource);
          if (any) out.resource = any;
          return out;
        }),
      });
    });
    call.on('status', (status: grpc.StatusObject) => this.inbox.setStatus(status));
    call.on('error', () => undefined);
  }

  send(input: DeltaRequestInput): void {
    this.call.write(Buffer.from(this.Request.encode(this.Request.fromObject({ typeUrl: TypeUrl.Cluster, ...input })).finish()));
  }

  ack(response: DeltaResponse): void {
    this.send({ typeUrl: response.typeUrl, responseNonce: response.nonce });
  }

  next(timeoutMs?: number): Promise<DeltaResponse> {
    return this.inbox.next(timeoutMs);
  }

  end(): void {
    this.call.end();
  }
}
