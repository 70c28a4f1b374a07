// The xDS protocol suite's client: one interface over a state-of-the-world and a Delta stream, so
// each rule of Envoy's xDS protocol document (docs/root/api-docs/xds_protocol.rst) is written once
// and checked on ADS SotW, ADS Delta and SDS. The client keeps what it holds per type, as a real
// xDS client does, and can behave like Envoy: subscribe to the children its parents name.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SnapshotCache } from '../../../src/cache/snapshot-cache';
import { trustNodeIdClaims } from '../../../src/auth/node-id-claims';
import { XdsServer } from '../../../src/server/xds-server';
import { ADS, EDS, SDS } from '../../../src/server/services';
import { shortTypeName, TypeUrl } from '../../../src/xds/type-urls';
import { decodeResource, XdsTestClient, type DeltaTestStream, type DecodedAny, type SotwTestStream } from '../../support/xds-client';

export const NODE = { id: 'mesh/demo/virtualNode/front' };
export const NODE_KEY = NODE.id;

/** One response as the suite sees it, whatever the protocol variant. */
export interface Received {
  typeUrl: string;
  /** Short type name (CDS, EDS, ...), for readable order assertions. */
  type: string;
  /** Names of the resources in the response. */
  names: string[];
  /** Delta only: removed_resources. */
  removed: string[];
  version: string;
  nonce: string;
  /** Decoded resources by name. */
  resources: Map<string, Record<string, unknown>>;
}

export type VariantName = 'ADS SotW' | 'ADS Delta';

/** A stream of either variant with the same verbs. */
export interface ProtocolStream {
  readonly variant: VariantName | 'SDS SotW' | 'SDS Delta' | 'EDS SotW';
  /** Subscribes to names of a type (SotW: the full list is sent; Delta: these are added). No names: wildcard. */
  subscribe(typeUrl: string, names?: string[], opts?: { initialVersions?: Record<string, string> }): void;
  unsubscribe(typeUrl: string, names: string[]): void;
  ack(response: Received): void;
  /** SotW: the same request again for the last ACKed response (what Envoy sends when it re-creates a watch). */
  repeatLastRequest(typeUrl: string): void;
  next(timeoutMs?: number): Promise<Received>;
  quiet(windowMs?: number): Promise<boolean>;
  end(): void;
}

function nameOf(typeUrl: string, any: DecodedAny): string {
  const decoded = decodeResource<{ name?: string; clusterName?: string }>(any);
  return (typeUrl === TypeUrl.ClusterLoadAssignment ? decoded.clusterName : decoded.name) ?? '';
}

class SotwProtocolStream implements ProtocolStream {
  private readonly names = new Map<string, string[]>();
  private readonly lastAcked = new Map<string, Received>();
  private first = true;

  constructor(readonly variant: ProtocolStream['variant'], private readonly stream: SotwTestStream) {}

  subscribe(typeUrl: string, names: string[] = []): void {
    const current = this.names.get(typeUrl);
    const merged = current === undefined || names.length === 0 ? [...names] : [...new Set([...current, ...names])];
    this.names.set(typeUrl, merged);
    const acked = this.lastAcked.get(typeUrl);
    this.stream.send({
      typeUrl,
      resourceNames: merged,
      ...(acked ? { versionInfo: acked.version, responseNonce: acked.nonce } : {}),
      ...(this.first ? { node: NODE } : {}),
    });
    this.first = false;
  }

  unsubscribe(typeUrl: string, names: string[]): void {
    const remaining = (this.names.get(typeUrl) ?? []).filter((name) => !names.includes(name));
    this.names.set(typeUrl, remaining);
    const acked = this.lastAcked.get(typeUrl);
    this.stream.send({ typeUrl, resourceNames: remaining, ...(acked ? { versionInfo: acked.version, responseNonce: acked.nonce } : {}) });
  }

  ack(response: Received): void {
    this.lastAcked.set(response.typeUrl, response);
    this.stream.send({ typeUrl: response.typeUrl, versionInfo: response.version, responseNonce: response.nonce, resourceNames: this.names.get(response.typeUrl) ?? [] });
  }

  repeatLastRequest(typeUrl: string): void {
    const acked = this.lastAcked.get(typeUrl);
    if (!acked) throw new Error(`nothing ACKed for ${shortTypeName(typeUrl)} yet`);
    this.ack(acked);
  }

  async next(timeoutMs?: number): Promise<Received> {
    const r = await this.stream.next(timeoutMs);
    const resources = new Map(r.resources.map((any) => [nameOf(r.typeUrl, any), decodeResource<Record<string, unknown>>(any)] as const));
    return { typeUrl: r.typeUrl, type: shortTypeName(r.typeUrl), names: [...resources.keys()], removed: [], version: r.versionInfo, nonce: r.nonce, resources };
  }

  quiet(windowMs?: number): Promise<boolean> {
    return this.stream.inbox.quiet(windowMs);
  }

  end(): void {
    this.stream.end();
  }
}

class DeltaProtocolStream implements ProtocolStream {
  private first = true;

  constructor(readonly variant: ProtocolStream['variant'], private readonly stream: DeltaTestStream) {}

  subscribe(typeUrl: string, names: string[] = [], opts: { initialVersions?: Record<string, string> } = {}): void {
    this.stream.send({
      typeUrl,
      resourceNamesSubscribe: names,
      ...(opts.initialVersions ? { initialResourceVersions: opts.initialVersions } : {}),
      ...(this.first ? { node: NODE } : {}),
    });
    this.first = false;
  }

  unsubscribe(typeUrl: string, names: string[]): void {
    this.stream.send({ typeUrl, resourceNamesUnsubscribe: names });
  }

  ack(response: Received): void {
    this.stream.send({ typeUrl: response.typeUrl, responseNonce: response.nonce });
  }

  repeatLastRequest(): void {
    throw new Error('Delta has no repeated request: a re-subscribe names the resources');
  }

  async next(timeoutMs?: number): Promise<Received> {
    const r = await this.stream.next(timeoutMs);
    const resources = new Map(r.resources.map((res) => [res.name, res.resource ? decodeResource<Record<string, unknown>>(res.resource) : {}] as const));
    return { typeUrl: r.typeUrl, type: shortTypeName(r.typeUrl), names: [...resources.keys()], removed: r.removedResources, version: r.systemVersionInfo, nonce: r.nonce, resources };
  }

  quiet(windowMs?: number): Promise<boolean> {
    return this.stream.inbox.quiet(windowMs);
  }

  end(): void {
    this.stream.end();
  }
}

/** A real xDS server (ADS, EDS and SDS services) on loopback TCP over a snapshot cache. */
export interface ProtocolServer {
  cache: SnapshotCache;
  client: XdsTestClient;
  open(variant: ProtocolStream['variant']): ProtocolStream;
}

export function useProtocolServer(): ProtocolServer {
  const current = {} as ProtocolServer & { server: XdsServer; dir: string };
  beforeEach(async () => {
    current.cache = new SnapshotCache();
    current.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-protocol-'));
    current.server = new XdsServer({ services: [ADS, EDS, SDS], settings: { watcher: current.cache, identify: trustNodeIdClaims } });
    const address = await current.server.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    current.client = new XdsTestClient(`127.0.0.1:${address.kind === 'tcp' ? address.port : 0}`);
  });
  afterEach(async () => {
    current.client.close();
    await current.server.shutdown(200);
    fs.rmSync(current.dir, { recursive: true, force: true });
  });
  current.open = (variant) => {
    switch (variant) {
      case 'ADS SotW': return new SotwProtocolStream(variant, current.client.sotw('ads'));
      case 'ADS Delta': return new DeltaProtocolStream(variant, current.client.delta('adsDelta'));
      case 'EDS SotW': return new SotwProtocolStream(variant, current.client.sotw('eds'));
      case 'SDS SotW': return new SotwProtocolStream(variant, current.client.sotw('sds'));
      case 'SDS Delta': return new DeltaProtocolStream(variant, current.client.delta('sdsDelta'));
    }
  };
  return current;
}

/**
 * Subscribes like Envoy at start-up (CDS, then the EDS its clusters name, then LDS, then the RDS
 * its listeners name), ACKing each response; resolves once every type has arrived.
 */
export async function envoyStartup(stream: ProtocolStream): Promise<void> {
  stream.subscribe(TypeUrl.Cluster);
  const cds = await stream.next();
  stream.ack(cds);
  stream.subscribe(TypeUrl.ClusterLoadAssignment, edsNamesOf(cds));
  stream.ack(await stream.next());
  stream.subscribe(TypeUrl.Listener);
  const lds = await stream.next();
  stream.ack(lds);
  stream.subscribe(TypeUrl.RouteConfiguration, rdsNamesOf(lds));
  stream.ack(await stream.next());
}

/** The EDS names a CDS response's clusters use. */
export function edsNamesOf(cds: Received): string[] {
  return [...cds.resources.entries()].map(([name, c]) => ((c.edsClusterConfig as { serviceName?: string } | undefined)?.serviceName || name)).sort();
}

/** The RDS names a LDS response's listeners use. */
export function rdsNamesOf(lds: Received): string[] {
  const names = new Set<string>();
  for (const listener of lds.resources.values()) {
    for (const chain of (listener.filterChains as { filters?: { typedConfig?: { type_url?: string; value?: Uint8Array } }[] }[] | undefined) ?? []) {
      for (const filter of chain.filters ?? []) {
        const any = filter.typedConfig;
        if (!any?.type_url || !any.value) continue;
        const hcm = decodeResource<{ rds?: { routeConfigName?: string } }>({ typeUrl: any.type_url, value: any.value });
        if (hcm.rds?.routeConfigName) names.add(hcm.rds.routeConfigName);
      }
    }
  }
  return [...names].sort();
}

/** Collects responses until the stream stays quiet, answering each as `answer` says. */
export async function collectUntilQuiet(stream: ProtocolStream, answer: (response: Received) => void, windowMs = 400): Promise<Received[]> {
  const received: Received[] = [];
  for (;;) {
    let response: Received;
    try {
      response = await stream.next(windowMs);
    } catch {
      return received;
    }
    received.push(response);
    answer(response);
  }
}
