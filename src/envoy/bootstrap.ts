// The Envoy v3 bootstrap meshd hands to a proxy: who it is (node id), where its admin listens,
// ADS to meshd over TCP or a Unix socket, and a static SDS cluster on APPMESH_SDS_SOCKET_PATH.
// Every gRPC service pointing at meshd carries the node's credential in its initial metadata,
// because meshd refuses a stream that cannot prove which endpoint it is.
// The builder is pure; renderBootstrapYaml turns its protobufjs-shaped object into the YAML
// Envoy reads (proto field names, Durations as "15s", Any as {'@type': ...}).
import { parseXdsAddress, type XdsAddress } from '../xds/address';
import { parseNodeId } from '../identity/endpoint-id';
import { isIP } from 'node:net';
import * as protobuf from 'protobufjs';
import { stringify } from 'yaml';
import { messageType } from '../xds/protos';

import type { NodeCredential, ProtoObject, ProtoValue } from './types';

export type { NodeCredential, ProtoObject, ProtoValue } from './types';

export interface EnvoyBootstrapOptions {
  /** `mesh/<mesh>/virtualNode/<name>`, `mesh/<mesh>/virtualGateway/<name>`, or an App Mesh ARN ending so. */
  nodeId: string;
  /** Envoy's node.cluster; defaults to the endpoint's name (the last segment of the node id). */
  cluster?: string;
  /** meshd's ADS address: `host:port`, `[v6]:port` or `unix:/path`; default 127.0.0.1:18000. */
  xdsAddress?: string;
  /**
   * Several meshd replicas' ADS addresses, instead of `xdsAddress`: one xDS cluster with one
   * endpoint per replica, so Envoy reconnects to another when one goes away.
   */
  xdsAddresses?: readonly string[];
  /** SDS Unix socket path; defaults to env.APPMESH_SDS_SOCKET_PATH. */
  sdsSocketPath?: string;
  /** Environment to read APPMESH_SDS_SOCKET_PATH from; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Envoy admin port; default 9901. */
  adminPort?: number;
  /** Envoy admin bind address; default 127.0.0.1. */
  adminAddress?: string;
  /** The node's credential, sent to meshd in gRPC initial metadata. */
  credential: NodeCredential;
  /** How long Envoy waits for the first CDS/LDS/SDS response before going on; default 15 s. */
  initialFetchTimeoutSeconds?: number;
  /** node.metadata (plain JSON), e.g. the per-proxy listener ports meshd honours. */
  nodeMetadata?: Record<string, string | number | boolean>;
}

/** Name of the static cluster that reaches meshd's ADS endpoint. */
export const XDS_CLUSTER_NAME = 'meshd_xds';
/** Name of the static cluster that reaches meshd's SDS Unix socket; SDS configs name it. */
export const SDS_CLUSTER_NAME = 'meshd_sds';
export const DEFAULT_XDS_ADDRESS = '127.0.0.1:18000';
export const DEFAULT_ADMIN_PORT = 9901;

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
// gRPC metadata keys: lower-case token characters; "-bin" keys carry binary, which a token is not.
const METADATA_KEY = /^[a-z0-9][a-z0-9_.-]*$/;

function seconds(s: number): ProtoObject {
  const whole = Math.floor(s);
  return { seconds: whole, nanos: Math.round((s - whole) * 1e9) };
}

/** A gRPC service at a meshd cluster that sends the node's credential on every stream. */
function meshdGrpcService(clusterName: string, credential: NodeCredential): ProtoObject {
  return {
    envoyGrpc: {
      clusterName,
      // Reconnect backoff for the xDS stream: quick first retry, capped so a restarted meshd
      // is found again within half a minute.
      retryPolicy: { retryBackOff: { baseInterval: seconds(0.5), maxInterval: seconds(30) } },
    },
    initialMetadata: [{ key: credential.header, value: credential.value }],
  };
}

function http2Options(): ProtoObject {
  return {
    [HTTP_PROTOCOL_OPTIONS]: {
      '@type': `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS}`,
      explicitHttpConfig: {
        // Pings find a dead control-plane connection long before TCP would.
        http2ProtocolOptions: { connectionKeepalive: { interval: seconds(30), timeout: seconds(5) } },
      },
    },
  };
}

/**
 * The ADS addresses a bootstrap points at, parsed and checked: no port 0, no address twice, and
 * not Unix sockets beside TCP (one cluster holds one kind of endpoint).
 */
export function xdsAddressesOf(opts: { xdsAddress?: string; xdsAddresses?: readonly string[] }): XdsAddress[] {
  const given = opts.xdsAddresses && opts.xdsAddresses.length > 0 ? opts.xdsAddresses : [opts.xdsAddress ?? DEFAULT_XDS_ADDRESS];
  const seen = new Set<string>();
  const addresses = given.map((text) => {
    const address = parseXdsAddress(text);
    if (address.kind === 'tcp' && address.port === 0) throw new Error(`xds address "${text}": port 0 cannot be dialled`);
    if (seen.has(text)) throw new Error(`xds address "${text}" is given twice`);
    seen.add(text);
    return address;
  });
  if (new Set(addresses.map((a) => a.kind)).size > 1) throw new Error(`xds addresses ${given.join(', ')}: give all as HOST:PORT or all as unix:PATH, not both`);
  return addresses;
}

function staticCluster(name: string, addresses: readonly XdsAddress[]): ProtoObject {
  const endpointOf = (address: XdsAddress): ProtoObject => ({
    endpoint: {
      address: address.kind === 'unix' ? { pipe: { path: address.path } } : { socketAddress: { address: address.host, portValue: address.port } },
    },
  });
  const tcp = addresses[0]!.kind === 'tcp';
  const cluster: ProtoObject = {
    name,
    type: addresses.some((a) => a.kind === 'tcp' && isIP(a.host) === 0) ? 'STRICT_DNS' : 'STATIC',
    connectTimeout: seconds(1),
    // One locality, one endpoint per replica: the ADS stream goes to one of them, and to another
    // when its connection fails (a refused or timed-out connect counts against that host).
    loadAssignment: { clusterName: name, endpoints: [{ lbEndpoints: addresses.map(endpointOf) }] },
    typedExtensionProtocolOptions: http2Options(),
  };
  if (tcp) {
    if (cluster.type === 'STRICT_DNS') cluster.dnsLookupFamily = 'V4_PREFERRED';
    cluster.upstreamConnectionOptions = {
      tcpKeepalive: { keepaliveProbes: { value: 3 }, keepaliveTime: { value: 30 }, keepaliveInterval: { value: 5 } },
    };
  }
  return cluster;
}

function checkCredential(credential: NodeCredential): void {
  if (!METADATA_KEY.test(credential.header) || credential.header.endsWith('-bin')) {
    throw new Error(`credential header "${credential.header}": must be a lower-case gRPC metadata key, not ending in -bin`);
  }
  // The value is secret: say what is wrong without echoing it.
  if (!credential.value || /[\x00-\x1f\x7f]/.test(credential.value)) {
    throw new Error(`credential for header "${credential.header}": value must be non-empty printable text`);
  }
}

/** The endpoint name a node id ends with; throws naming the id if it is not a meshd node id. */
export function nodeNameOf(nodeId: string): string {
  return parseNodeId(nodeId).name;
}

function resolveSdsSocketPath(opts: EnvoyBootstrapOptions): string {
  const env = opts.env ?? process.env;
  const path = opts.sdsSocketPath ?? env.APPMESH_SDS_SOCKET_PATH;
  if (!path) throw new Error('SDS socket path: not given and APPMESH_SDS_SOCKET_PATH is not set');
  return path;
}

/**
 * The ConfigSource an SdsSecretConfig uses to fetch a secret from meshd for this node: gRPC to the
 * bootstrap's SDS cluster, with the node's credential. Envoy opens SDS streams from the TLS
 * contexts of listeners and clusters, never from the bootstrap itself, so the credential on the
 * SDS stream comes from here.
 */
export function sdsConfigSource(credential: NodeCredential, initialFetchTimeoutSeconds = 15): ProtoObject {
  checkCredential(credential);
  return {
    apiConfigSource: {
      apiType: 'GRPC',
      transportApiVersion: 'V3',
      grpcServices: [meshdGrpcService(SDS_CLUSTER_NAME, credential)],
      setNodeOnFirstMessageOnly: true,
    },
    resourceApiVersion: 'V3',
    initialFetchTimeout: seconds(initialFetchTimeoutSeconds),
  };
}

/** Builds the Envoy v3 Bootstrap for one node as a protobufjs camelCase object. */
export function buildEnvoyBootstrap(opts: EnvoyBootstrapOptions): ProtoObject {
  const nodeName = nodeNameOf(opts.nodeId);
  checkCredential(opts.credential);
  const xds = xdsAddressesOf(opts);
  const sdsPath = resolveSdsSocketPath(opts);
  const adminPort = opts.adminPort ?? DEFAULT_ADMIN_PORT;
  if (!Number.isInteger(adminPort) || adminPort < 0 || adminPort > 65535) {
    throw new Error(`admin port ${adminPort}: must be an integer 0-65535`);
  }
  const fetchTimeout = seconds(opts.initialFetchTimeoutSeconds ?? 15);
  const viaAds: ProtoObject = { ads: {}, resourceApiVersion: 'V3', initialFetchTimeout: fetchTimeout };
  return {
    node: { id: opts.nodeId, cluster: opts.cluster ?? nodeName, ...(opts.nodeMetadata ? { metadata: { ...opts.nodeMetadata } } : {}) },
    admin: { address: { socketAddress: { address: opts.adminAddress ?? '127.0.0.1', portValue: adminPort } } },
    dynamicResources: {
      adsConfig: {
        apiType: 'GRPC',
        transportApiVersion: 'V3',
        grpcServices: [meshdGrpcService(XDS_CLUSTER_NAME, opts.credential)],
        setNodeOnFirstMessageOnly: true,
      },
      cdsConfig: viaAds,
      ldsConfig: { ...viaAds },
    },
    staticResources: {
      clusters: [
        staticCluster(XDS_CLUSTER_NAME, xds),
        // SDS stays the local replica's socket: secrets come from the meshd on the proxy's host.
        staticCluster(SDS_CLUSTER_NAME, [{ kind: 'unix', path: sdsPath }]),
      ],
    },
  };
}

/**
 * Converts an Envoy Bootstrap object (protobufjs camelCase) to the proto3 JSON Envoy parses, with
 * proto (snake_case) field names. Unknown fields are an error rather than silently dropped.
 */
export function bootstrapToEnvoyJson(obj: ProtoObject): ProtoObject {
  const type = messageType('envoy.config.bootstrap.v3.Bootstrap');
  // fromObject rejects values of the wrong shape; the walk below rejects unknown field names,
  // which fromObject would silently drop.
  type.fromObject(obj);
  return messageToJson(type, obj, '') as ProtoObject;
}

/** Renders a bootstrap object as the YAML Envoy loads with `-c`. */
export function renderBootstrapYaml(obj: ProtoObject): string {
  return stringify(bootstrapToEnvoyJson(obj), { lineWidth: 0 });
}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `google.protobuf.${n}`));

function snakeName(camel: string, type: protobuf.Type): string {
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  if (protobuf.util.camelCase(snake) !== camel) {
    throw new Error(`${type.fullName}.${camel}: cannot recover the proto field name`);
  }
  return snake;
}

function fullNameOf(t: protobuf.Type): string {
  return t.fullName.replace(/^\./, '');
}

/** Walks a protobufjs toObject result beside its type, producing proto3 JSON with proto names. */
function messageToJson(type: protobuf.Type, plain: ProtoObject, where: string): ProtoValue {
  const name = fullNameOf(type);
  if (name === 'google.protobuf.Duration') {
    const total = Number(plain.seconds ?? 0) + Number(plain.nanos ?? 0) / 1e9;
    return `${total}s`;
  }
  if (WRAPPERS.has(name)) return plain.value ?? null;
  // A Struct is written as the JSON it stands for (the builders give it as plain JSON).
  if (name === 'google.protobuf.Struct') return plain as ProtoValue;
  if (name === 'google.protobuf.Any' && typeof plain['@type'] === 'string') {
    const inner = type.root.lookupType(plain['@type'].slice(plain['@type'].lastIndexOf('/') + 1));
    const { '@type': typeUrl, ...fields } = plain;
    return { '@type': typeUrl, ...(messageToJson(inner, fields, where) as ProtoObject) };
  }
  if (name.startsWith('google.protobuf.') && /Struct|Value|ListValue|Timestamp|FieldMask/.test(name)) {
    throw new Error(`${where || name}: ${name} is not supported in a bootstrap`);
  }
  const out: ProtoObject = {};
  for (const [key, value] of Object.entries(plain)) {
    const field = type.fields[key];
    if (!field) throw new Error(`${where}${key}: not a field of ${name}`);
    field.resolve();
    const path = `${where}${key}.`;
    const resolved = field.resolvedType;
    const convert = (v: ProtoValue): ProtoValue => {
      if (resolved instanceof protobuf.Type) return messageToJson(resolved, v as ProtoObject, path);
      if (resolved instanceof protobuf.Enum && typeof v === 'number') return resolved.valuesById[v] ?? v;
      return v;
    };
    let converted: ProtoValue;
    if (field.map) {
      converted = Object.fromEntries(Object.entries(value as ProtoObject).map(([k, v]) => [k, convert(v)]));
    } else if (field.repeated) {
      converted = (value as ProtoValue[]).map(convert);
    } else {
      converted = convert(value);
    }
    out[snakeName(key, type)] = converted;
  }
  return out;
}
