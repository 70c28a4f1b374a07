// Client Status Discovery Service (envoy.service.status.v3) on the xDS port: for every connected
// node a request's node matchers select, the resources meshd serves it with their status:
// SYNCED (the version sent was ACKed), STALE (sent, not yet ACKed, or meshd has newer config than
// it sent), ERROR (the version sent was NACKed; error_state says why), NOT_SENT (meshd has the
// type for the node but never sent it). Secrets are listed without contents, and node credentials
// inside resources are redacted, as in /config_dump.
//
// On a fleet of replicas (a shared store) every replica answers for the whole fleet: a proxy
// served by another replica is listed with its resources computed here (the mesh is shared and
// versions derive from content, so they are what that replica serves) and its status as that
// replica last published it (SYNCED, STALE, ERROR with the NACK's start, NOT_SENT; at most one
// fleet flush old). Every node carries `meshd_replica` in its metadata: the replica serving it.
import * as grpc from '@grpc/grpc-js';
import { redactedResourceBytes } from './config-dump';
import { typeState, type StreamRecord, type StreamRegistry } from './stream-registry';
import type { FleetProxyStatus, FleetStatus, SnapshotSource } from './types';
import { messageType } from '../xds/protos';
import { shortTypeName, TypeUrl } from '../xds/type-urls';

const SERVICE = 'envoy.service.status.v3.ClientStatusDiscoveryService';
const REQUEST_TYPE = 'envoy.service.status.v3.ClientStatusRequest';
const RESPONSE_TYPE = 'envoy.service.status.v3.ClientStatusResponse';

export interface CsdsOptions {
  registry: StreamRegistry;
  snapshots: SnapshotSource;
  /**
   * Who may ask. CSDS shows every node's configuration (never keys or credentials); by default
   * anyone who can reach the xDS port may. Return false to refuse with PERMISSION_DENIED.
   */
  authorize?: (metadata: grpc.Metadata) => boolean;
  /** With a shared store: the fleet, so proxies on other replicas are answered for too. */
  fleet?: () => FleetStatus | undefined;
}

/** The node metadata naming the replica that serves it. */
export const REPLICA_METADATA_KEY = 'meshd_replica';

/** envoy.type.matcher.v3.StringMatcher, as protobufjs decodes it. */
interface StringMatcher { exact?: string; prefix?: string; suffix?: string; contains?: string; safeRegex?: { regex?: string }; ignoreCase?: boolean }
interface NodeMatcher { nodeId?: StringMatcher; nodeMetadatas?: unknown[] }
interface ClientStatusRequest { nodeMatchers?: NodeMatcher[]; excludeResourceContents?: boolean }

class CsdsError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

/**
 * An Envoy StringMatcher (exact, prefix, suffix, contains, safe_regex; ignore_case) as a
 * predicate. Checked when the request arrives, so a bad matcher is refused even if no node is
 * connected. safe_regex runs as a JavaScript expression anchored at both ends, as RE2 full-match.
 */
export function compileStringMatcher(matcher: StringMatcher): (value: string) => boolean {
  const fold = (s: string): string => (matcher.ignoreCase ? s.toLowerCase() : s);
  if (matcher.exact !== undefined) return (v) => fold(v) === fold(matcher.exact!);
  if (matcher.prefix !== undefined) return (v) => fold(v).startsWith(fold(matcher.prefix!));
  if (matcher.suffix !== undefined) return (v) => fold(v).endsWith(fold(matcher.suffix!));
  if (matcher.contains !== undefined) return (v) => fold(v).includes(fold(matcher.contains!));
  if (matcher.safeRegex?.regex !== undefined) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${matcher.safeRegex.regex})$`);
    } catch (err) {
      throw new CsdsError(grpc.status.INVALID_ARGUMENT, `node_matchers: safe_regex "${matcher.safeRegex.regex.slice(0, 200)}" is not a valid expression: ${(err as Error).message}`);
    }
    return (v) => pattern.test(v);
  }
  throw new CsdsError(grpc.status.INVALID_ARGUMENT, 'node_matchers: node_id needs one of exact, prefix, suffix, contains or safe_regex');
}

function timestamp(ms: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/** Builds the ClientStatusResponse (protobufjs object form) for one request. */
export function clientStatus(request: ClientStatusRequest, options: CsdsOptions): Record<string, unknown> {
  const matchers = (request.nodeMatchers ?? []).map((matcher) => {
    if (matcher.nodeMetadatas?.length) throw new CsdsError(grpc.status.UNIMPLEMENTED, 'node_matchers: node_metadatas matching is not supported; match on node_id');
    return matcher.nodeId ? compileStringMatcher(matcher.nodeId) : () => true;
  });
  const byNode = new Map<string, StreamRecord[]>();
  for (const record of options.registry.records()) {
    const nodeId = record.info.node.id;
    if (matchers.length > 0 && !matchers.some((matches) => matches(nodeId))) continue;
    let list = byNode.get(nodeId);
    if (!list) byNode.set(nodeId, (list = []));
    list.push(record);
  }
  const fleet = options.fleet?.();
  const exclude = request.excludeResourceContents ?? false;
  const configs = new Map<string, Record<string, unknown>>();
  for (const [nodeId, records] of byNode) configs.set(nodeId, clientConfig(records, options, exclude, fleet?.replica));
  for (const proxy of remoteProxies(fleet, byNode)) {
    if (matchers.length > 0 && !matchers.some((matches) => matches(proxy.nodeId))) continue;
    configs.set(proxy.nodeId, remoteClientConfig(proxy, options, exclude));
  }
  const config = [...configs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry);
  return { config };
}

/**
 * Proxies other replicas serve and this one does not, one per node id: during a move the replica
 * it left may still list it until its lease expires, so the newest connection wins.
 */
function remoteProxies(fleet: FleetStatus | undefined, local: ReadonlyMap<string, unknown>): FleetProxyStatus[] {
  const newest = new Map<string, FleetProxyStatus>();
  for (const proxy of fleet?.proxies ?? []) {
    if (proxy.replica === fleet!.replica || local.has(proxy.nodeId)) continue;
    const seen = newest.get(proxy.nodeId);
    if (!seen || seen.since < proxy.since) newest.set(proxy.nodeId, proxy);
  }
  return [...newest.values()];
}

function nodeOf(node: { id: string; cluster?: string; userAgentName?: string }, replica: string | undefined): Record<string, unknown> {
  return {
    ...node,
    ...(replica !== undefined ? { metadata: { fields: { [REPLICA_METADATA_KEY]: { stringValue: replica } } } } : {}),
  };
}

/** A proxy on another replica: resources from this replica's snapshot, status as that replica published it. */
function remoteClientConfig(proxy: FleetProxyStatus, options: CsdsOptions, excludeContents: boolean): Record<string, unknown> {
  const snapshot = options.snapshots.getSnapshot(proxy.endpoint);
  const generic: Record<string, unknown>[] = [];
  for (const typeUrl of [...(snapshot?.typeUrls() ?? [])].sort()) {
    const type = proxy.types[shortTypeName(typeUrl)];
    for (const resource of snapshot!.get(typeUrl)?.resources.values() ?? []) {
      const entry: Record<string, unknown> = { typeUrl, name: resource.name };
      if (!type?.sent || type.state === 'not_sent') {
        entry.configStatus = 'NOT_SENT';
      } else {
        entry.versionInfo = type.sent;
        if (type.state === 'nacked') {
          entry.configStatus = 'ERROR';
          entry.clientStatus = 'NACKED';
          entry.errorState = { details: type.nack ?? '', versionInfo: type.sent };
        } else if (type.state === 'synced') {
          entry.configStatus = 'SYNCED';
          entry.clientStatus = 'ACKED';
        } else {
          entry.configStatus = 'STALE';
          entry.clientStatus = 'REQUESTED';
        }
      }
      if (!excludeContents && typeUrl !== TypeUrl.Secret) {
        entry.xdsConfig = { type_url: typeUrl, value: redactedResourceBytes(typeUrl, resource.value) };
      }
      generic.push(entry);
    }
  }
  return { node: nodeOf({ id: proxy.nodeId }, proxy.replica), genericXdsConfigs: generic };
}

function clientConfig(records: StreamRecord[], options: CsdsOptions, excludeContents: boolean, replica: string | undefined): Record<string, unknown> {
  // Newest stream last, so on a reconnect overlap the newest stream's view of a type wins.
  const ordered = [...records].sort((a, b) => a.info.connectedAt.getTime() - b.info.connectedAt.getTime() || a.info.id - b.info.id);
  const first = ordered[0]!;
  const typeRecords = new Map<string, NonNullable<ReturnType<StreamRecord['types']['get']>>>();
  for (const record of ordered) for (const [typeUrl, type] of record.types) typeRecords.set(typeUrl, type);
  const snapshot = options.snapshots.getSnapshot(first.info.nodeKey);
  const typeUrls = new Set([...typeRecords.keys(), ...(snapshot?.typeUrls() ?? [])]);
  const generic: Record<string, unknown>[] = [];
  for (const typeUrl of [...typeUrls].sort()) {
    const type = typeRecords.get(typeUrl);
    const set = snapshot?.get(typeUrl);
    const state = type ? typeState(type) : 'not_sent';
    for (const resource of set?.resources.values() ?? []) {
      const entry: Record<string, unknown> = { typeUrl, name: resource.name };
      if (!type?.sent) {
        entry.configStatus = 'NOT_SENT';
      } else {
        entry.versionInfo = type.sent.version;
        // The snapshot moved on since the last send: what the proxy holds is not current. The
        // version covers what the stream asked for, so compare like with like.
        const current = set!.versionFor(type.sent.selection) === type.sent.version;
        if (state === 'nacked') {
          entry.configStatus = 'ERROR';
          entry.clientStatus = 'NACKED';
          const nack = type.lastNack!;
          entry.errorState = { lastUpdateAttempt: timestamp(nack.atMs), details: nack.message, versionInfo: nack.version };
        } else if (state === 'synced' && current) {
          entry.configStatus = 'SYNCED';
          entry.clientStatus = 'ACKED';
        } else {
          entry.configStatus = 'STALE';
          entry.clientStatus = 'REQUESTED';
        }
        entry.lastUpdated = timestamp(state === 'synced' ? type.acked!.atMs : type.sent.atMs);
      }
      // Secrets carry private keys: CSDS names them but never shows their contents.
      if (!excludeContents && typeUrl !== TypeUrl.Secret) {
        entry.xdsConfig = { type_url: typeUrl, value: redactedResourceBytes(typeUrl, resource.value) };
      }
      generic.push(entry);
    }
  }
  const node = first.info.node;
  return { node: nodeOf({ id: node.id, cluster: node.cluster, userAgentName: node.userAgentName }, replica), genericXdsConfigs: generic };
}

const raw = (value: Buffer): Buffer => value;

function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return { path: `/${SERVICE}/${name}`, requestStream, responseStream, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw };
}

/** One request in, one encoded response out (or a CsdsError). */
function answer(bytes: Buffer, metadata: grpc.Metadata, options: CsdsOptions): Buffer {
  if (options.authorize && !options.authorize(metadata)) throw new CsdsError(grpc.status.PERMISSION_DENIED, 'not allowed to query client status');
  const Request = messageType(REQUEST_TYPE);
  let request: ClientStatusRequest;
  try {
    request = Request.toObject(Request.decode(bytes), { defaults: false }) as ClientStatusRequest;
  } catch (err) {
    throw new CsdsError(grpc.status.INVALID_ARGUMENT, `ClientStatusRequest does not decode: ${(err as Error).message}`);
  }
  const Response = messageType(RESPONSE_TYPE);
  return Buffer.from(Response.encode(Response.fromObject(clientStatus(request, options))).finish());
}

function statusOf(err: unknown): grpc.ServiceError {
  const error = err instanceof CsdsError ? err : new CsdsError(grpc.status.INTERNAL, 'internal error building client status');
  return Object.assign(new Error(error.message), { code: error.code, details: error.message, metadata: new grpc.Metadata() });
}

/** Registers CSDS (stream and fetch) on a grpc-js server; pass as XdsServer's `extraServices`. */
export function addCsdsService(server: grpc.Server, options: CsdsOptions): void {
  const definition: grpc.ServiceDefinition = {
    StreamClientStatus: method('StreamClientStatus', true, true),
    FetchClientStatus: method('FetchClientStatus', false, false),
  };
  server.addService(definition, {
    StreamClientStatus: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (bytes: Buffer) => {
        try {
          call.write(answer(bytes, call.metadata, options));
        } catch (err) {
          call.emit('error', statusOf(err));
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
    FetchClientStatus: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      try {
        callback(null, answer(call.request, call.metadata, options));
      } catch (err) {
        callback(statusOf(err));
      }
    },
  });
}
