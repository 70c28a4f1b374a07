// gRPC service definitions for the discovery services, taken from Envoy's own service protos so
// method paths and streaming flags cannot drift. Messages cross grpc-js as raw bytes: requests
// are decoded by the stream (so a malformed one ends only its own stream, with a status), and
// responses are written already encoded, shared between streams.
import * as grpc from '@grpc/grpc-js';
import { envoyRoot } from '../xds/protos';
import { TypeUrl } from '../xds/type-urls';
import { decodeSotwRequest, RequestError } from '../xds/wire';
import { serializeMessage, type OutgoingMessage } from '../xds/message-parts';
import { DeltaStream } from './delta-stream';
import { SotwStream } from './sotw-stream';
import { type RawDuplex, type StreamOptions } from './xds-stream';
import { StatusError } from '../xds/status-error';
import { logger } from '../log';

const log = logger('xds-fetch');
/** How long a Fetch waits for a node's first snapshot before answering UNAVAILABLE. */
const FETCH_WAIT_MS = 5000;

const passThrough = (value: Buffer): Buffer => value;

function serviceDefinition(fullName: string): grpc.ServiceDefinition {
  const service = envoyRoot().lookupService(fullName);
  const definition: Record<string, grpc.MethodDefinition<Buffer, OutgoingMessage>> = {};
  for (const method of Object.values(service.methods)) {
    definition[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: Boolean(method.requestStream),
      responseStream: Boolean(method.responseStream),
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: serializeMessage,
      responseDeserialize: passThrough,
    };
  }
  return definition as grpc.ServiceDefinition;
}

export interface DiscoveryService {
  /** Fully qualified gRPC service name. */
  name: string;
  /** Short name for logs and status. */
  label: string;
  /** Types it serves; a per-type service also implies its type when a request leaves it empty. */
  typeUrls: readonly string[];
  perType: boolean;
}

export const ADS: DiscoveryService = {
  name: 'envoy.service.discovery.v3.AggregatedDiscoveryService',
  label: 'ADS',
  typeUrls: [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration],
  perType: false,
};
export const CDS: DiscoveryService = { name: 'envoy.service.cluster.v3.ClusterDiscoveryService', label: 'CDS', typeUrls: [TypeUrl.Cluster], perType: true };
export const EDS: DiscoveryService = { name: 'envoy.service.endpoint.v3.EndpointDiscoveryService', label: 'EDS', typeUrls: [TypeUrl.ClusterLoadAssignment], perType: true };
export const LDS: DiscoveryService = { name: 'envoy.service.listener.v3.ListenerDiscoveryService', label: 'LDS', typeUrls: [TypeUrl.Listener], perType: true };
export const RDS: DiscoveryService = { name: 'envoy.service.route.v3.RouteDiscoveryService', label: 'RDS', typeUrls: [TypeUrl.RouteConfiguration], perType: true };
export const SDS: DiscoveryService = { name: 'envoy.service.secret.v3.SecretDiscoveryService', label: 'SDS', typeUrls: [TypeUrl.Secret], perType: true };

export type StreamSettings = Omit<StreamOptions, 'service' | 'servedTypes' | 'impliedTypeUrl'>;

/**
 * Adds one discovery service to a grpc-js server: its stream method(s) run SotW, its Delta
 * method(s) run Delta, and its Fetch method (per-type services) answers once from the snapshot.
 */
export function addDiscoveryService(server: grpc.Server, service: DiscoveryService, settings: StreamSettings): void {
  const definition = serviceDefinition(service.name);
  const options: StreamOptions = {
    ...settings,
    service: service.label,
    servedTypes: new Set(service.typeUrls),
    ...(service.perType ? { impliedTypeUrl: service.typeUrls[0]! } : {}),
  };
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [methodName, method] of Object.entries(definition)) {
    if (method.requestStream && method.responseStream) {
      const Stream = methodName.startsWith('Delta') ? DeltaStream : SotwStream;
      implementation[methodName] = (call: RawDuplex) => new Stream(call, options, Stream === DeltaStream ? 'delta' : 'sotw');
    } else if (methodName.startsWith('Fetch')) {
      implementation[methodName] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        fetchOnce(call, callback, options);
    }
  }
  server.addService(definition, implementation);
}

/** Unary Fetch: the node's current resources of the service's type, or UNAVAILABLE if none yet. */
function fetchOnce(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>, options: StreamOptions): void {
  try {
    const request = decodeSotwRequest(call.request);
    const typeUrl = request.typeUrl || options.impliedTypeUrl!;
    if (!options.servedTypes.has(typeUrl)) throw new StatusError(grpc.status.INVALID_ARGUMENT, `${options.service} does not serve type_url "${typeUrl.slice(0, 200)}"`);
    if (!request.node?.id) throw new StatusError(grpc.status.INVALID_ARGUMENT, 'a fetch request must carry node.id');
    const { key } = options.identify(request.node, call.metadata);
    const refused = options.refusedNames?.(key, typeUrl, request.resourceNames) ?? [];
    if (refused.length > 0) {
      log.warn({ node: request.node.id, type: options.service, names: refused }, 'fetch refused resources this node is not entitled to');
      request.resourceNames = request.resourceNames.filter((name) => !refused.includes(name));
      if (request.resourceNames.length === 0) throw new StatusError(grpc.status.PERMISSION_DENIED, `${key} is not entitled to ${refused.join(', ')}`);
    }
    // Answer from the current snapshot, or wait a moment for the first one (an SDS leaf may be
    // being issued right now).
    let answered = false;
    let cancel: (() => void) | undefined;
    const timer = setTimeout(() => {
      if (answered) return;
      answered = true;
      cancel?.();
      callback({ code: grpc.status.UNAVAILABLE, details: `no configuration for ${key} yet` });
    }, FETCH_WAIT_MS);
    cancel = options.watcher.watch(key, (snapshot) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      const set = snapshot.get(typeUrl);
      const names = request.resourceNames.length === 0 ? null : [...new Set(request.resourceNames)].sort();
      const body = set ? set.sotwBody(names, names?.join('\u0000') ?? '*') : undefined;
      callback(null, body ?? Buffer.alloc(0));
      queueMicrotask(() => cancel?.());
    });
    if (answered) cancel();
  } catch (err) {
    if (err instanceof StatusError) callback({ code: err.code, details: err.message });
    else if (err instanceof RequestError) callback({ code: grpc.status.INVALID_ARGUMENT, details: err.message });
    else callback({ code: grpc.status.INTERNAL, details: 'internal error' });
  }
}
