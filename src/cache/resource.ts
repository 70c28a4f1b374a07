// A resource encoded once: the bytes every stream shares, its content version, and the names of
// the resources it depends on (a listener's route configurations, a cluster's endpoints), which
// the snapshot's consistency check and the warming order rely on.
import { hash } from 'node:crypto';
import { messageType } from '../xds/protos';
import { TypeUrl, messageNameOf } from '../xds/type-urls';
import { deltaResourceField, SotwField } from '../xds/wire';

export interface ResourceRef {
  typeUrl: string;
  name: string;
}

export class EncodedResource {
  /** `resources` field of a DiscoveryResponse, ready to concatenate. */
  readonly sotwField: Buffer;
  /** The google.protobuf.Any holding the resource (a view into sotwField). */
  readonly any: Buffer;
  /** Serialized message, the Any's value (a view into sotwField). */
  readonly value: Buffer;
  private deltaFieldBytes: Buffer | undefined;

  constructor(
    readonly typeUrl: string,
    readonly name: string,
    value: Uint8Array,
    /** Content-derived: the same bytes give the same version across restarts. */
    readonly version: string,
    readonly dependsOn: readonly ResourceRef[],
  ) {
    // The three encodings nest (field > Any > value): one buffer holds them all, so a resource
    // is kept once instead of three times (10,000 SDS snapshots held ~7 KB each before). Its own
    // memory, not a slice of Node's shared pool, which a long-lived slice would pin whole.
    const typeUrlLength = Buffer.byteLength(typeUrl);
    const anyLength = 1 + varintLength(typeUrlLength) + typeUrlLength + 1 + varintLength(value.length) + value.length;
    const field = Buffer.allocUnsafeSlow(1 + varintLength(anyLength) + anyLength);
    let at = writeLengthPrefix(field, 0, SotwField.resources, anyLength);
    const anyStart = at;
    at = writeLengthPrefix(field, at, ANY_TYPE_URL_FIELD, typeUrlLength);
    at += field.write(typeUrl, at, 'utf8');
    at = writeLengthPrefix(field, at, ANY_VALUE_FIELD, value.length);
    field.set(value, at);
    this.sotwField = field;
    this.any = field.subarray(anyStart);
    this.value = field.subarray(at);
  }

  /** `resources` field of a DeltaDiscoveryResponse; built on first use, then shared. */
  get deltaField(): Buffer {
    this.deltaFieldBytes ??= deltaResourceField(this.name, this.version, this.any);
    return this.deltaFieldBytes;
  }
}

// google.protobuf.Any: type_url = 1, value = 2.
const ANY_TYPE_URL_FIELD = 1;
const ANY_VALUE_FIELD = 2;

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    length++;
  }
  return length;
}

/** Writes a length-delimited field's tag (one byte: field numbers below 16) and length; returns the next offset. */
function writeLengthPrefix(buffer: Buffer, at: number, fieldNumber: number, length: number): number {
  buffer[at++] = (fieldNumber << 3) | 2;
  while (length >= 0x80) {
    buffer[at++] = (length & 0x7f) | 0x80;
    length = Math.floor(length / 0x80);
  }
  buffer[at++] = length;
  return at;
}

export function contentVersion(bytes: Uint8Array | string): string {
  return hash('sha256', bytes, 'hex').slice(0, 16);
}

/**
 * Encodes a resource given as a protobufjs-shaped object (camelCase fields, enums by name, Any
 * fields as `{'@type': url, ...fields}`).
 */
export function encodeResource(typeUrl: string, name: string, message: object): EncodedResource {
  const Type = messageType(messageNameOf(typeUrl));
  const bytes = Type.encode(Type.fromObject(message)).finish();
  return new EncodedResource(typeUrl, name, bytes, contentVersion(bytes), referencesOf(typeUrl, name, bytes));
}

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const EDS_DISCOVERY_TYPE = 3; // envoy.config.cluster.v3.Cluster.DiscoveryType.EDS

interface DecodedAny { type_url?: string; value?: Uint8Array }
interface DecodedFilterChain { filters?: { typedConfig?: DecodedAny }[] }
interface DecodedListener { filterChains?: DecodedFilterChain[]; defaultFilterChain?: DecodedFilterChain; apiListener?: { apiListener?: DecodedAny } }
interface DecodedCluster { type?: number; edsClusterConfig?: { serviceName?: string } }

/**
 * What a cluster or listener points at (EDS service names, RDS route configuration names), read
 * from the encoded bytes so it holds whatever shape the message was built from.
 */
function referencesOf(typeUrl: string, name: string, bytes: Uint8Array): ResourceRef[] {
  if (typeUrl === TypeUrl.Cluster) {
    const cluster = messageType(messageNameOf(typeUrl)).decode(bytes) as unknown as DecodedCluster;
    if (cluster.type !== EDS_DISCOVERY_TYPE) return [];
    return [{ typeUrl: TypeUrl.ClusterLoadAssignment, name: cluster.edsClusterConfig?.serviceName || name }];
  }
  if (typeUrl !== TypeUrl.Listener) return [];
  const listener = messageType(messageNameOf(typeUrl)).decode(bytes) as unknown as DecodedListener;
  const hcms: DecodedAny[] = [];
  for (const chain of [...(listener.filterChains ?? []), ...(listener.defaultFilterChain ? [listener.defaultFilterChain] : [])]) {
    for (const filter of chain.filters ?? []) if (filter.typedConfig) hcms.push(filter.typedConfig);
  }
  if (listener.apiListener?.apiListener) hcms.push(listener.apiListener.apiListener);
  const routes = new Set<string>();
  const Hcm = messageType(HCM_TYPE);
  for (const any of hcms) {
    if (!any.type_url?.endsWith(`/${HCM_TYPE}`) || !any.value) continue;
    const hcm = Hcm.decode(any.value) as unknown as { rds?: { routeConfigName?: string } };
    if (hcm.rds?.routeConfigName) routes.add(hcm.rds.routeConfigName);
  }
  return [...routes].sort().map((route) => ({ typeUrl: TypeUrl.RouteConfiguration, name: route }));
}
