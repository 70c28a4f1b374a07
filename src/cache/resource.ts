// A resource encoded once: the bytes every stream shares, its content version, and the names of
// the resources it depends on (a listener's route configurations, a cluster's endpoints), which
// the snapshot's consistency check and the warming order rely on.
import { hash } from 'node:crypto';
import { shortHex } from '../util/short-hex';
import { messageType } from '../xds/protos';
import { TypeUrl, messageNameOf } from '../xds/type-urls';
import { anyField, anyFieldSize, deltaResourceField, SotwField } from '../xds/wire';
import { measureMessage, type MeasuredMessage } from '../xds/encode';
import { planOf } from '../xds/encode-plan';
import { convertScalar } from '../xds/encode-scalars';

export interface ResourceRef {
  typeUrl: string;
  name: string;
}

export class EncodedResource {
  /** `resources` field of a DiscoveryResponse, ready to concatenate. */
  readonly sotwField: Buffer;
  /** Where the Any and the value start within sotwField. */
  readonly #anyAt: number;
  readonly #valueAt: number;
  private deltaFieldBytes: Buffer | undefined;

  /** Content-derived: the same bytes give the same version across restarts. */
  readonly version: string;

  constructor(
    readonly typeUrl: string,
    readonly name: string,
    /** The serialized message, or one measured and written straight into this resource's buffer. */
    value: Uint8Array | MeasuredMessage,
    /** Its version; by default derived from the bytes (`contentVersion`). */
    version: string | undefined,
    readonly dependsOn: readonly ResourceRef[],
    /** Where to write the field (`anyFieldSize` bytes); by default memory of its own. */
    memory?: Buffer,
  ) {
    // The three encodings nest (field > Any > value): the Any and the value are views into the
    // field, so a resource is held once, not three times (10,000 SDS snapshots held ~7 KB each).
    // The views are made when asked for: a Buffer object each is ~100 bytes, and the push path
    // needs only the field (two views of 20,000 SDS secrets were 4 MB).
    const { field, any } = anyField(SotwField.resources, typeUrl, value, memory);
    this.sotwField = field;
    this.#anyAt = field.length - any.length;
    this.#valueAt = field.length - (value instanceof Uint8Array ? value.length : value.size);
    this.version = version ?? contentVersion(field.subarray(this.#valueAt));
  }

  /** The google.protobuf.Any holding the resource. */
  get any(): Buffer {
    return this.sotwField.subarray(this.#anyAt);
  }

  /** Serialized message (the Any's value). */
  get value(): Buffer {
    return this.sotwField.subarray(this.#valueAt);
  }

  /** `resources` field of a DeltaDiscoveryResponse; built on first use, then shared. */
  get deltaField(): Buffer {
    this.deltaFieldBytes ??= deltaResourceField(this.name, this.version, this.any);
    return this.deltaFieldBytes;
  }
}

export function contentVersion(bytes: Uint8Array | string): string {
  // One-shot: no Hash object per resource.
  return shortHex(hash('sha256', bytes, 'hex'));
}


/**
 * Encodes a resource given as a protobufjs-shaped object (camelCase fields, enums by name, Any
 * fields as `{'@type': url, ...fields}`), to the bytes protobufjs's fromObject + encode give.
 */
export function encodeResource(typeUrl: string, name: string, message: object): EncodedResource {
  const measured = measureMessage(messageType(messageNameOf(typeUrl)), message);
  return new EncodedResource(typeUrl, name, measured, undefined, referencesOf(typeUrl, name, message as PlainListener & PlainCluster));
}

/** A resource given to `encodeResources`. */
export interface ResourceToEncode {
  readonly typeUrl: string;
  readonly name: string;
  /** protobufjs-shaped, as `encodeResource` takes it. */
  readonly message: object;
}

/**
 * Encodes the resources of one snapshot, as `encodeResource` does, into one allocation of their
 * own rather than one each: a translation makes ~10 resources per node, and an allocation of its
 * own per resource was a tenth of its time. They are built, served and replaced together; a set
 * carried into a later snapshot keeps at most its first snapshot's bytes alive.
 */
export function encodeResources(inputs: readonly ResourceToEncode[]): EncodedResource[] {
  const measured = inputs.map((input) => measureMessage(messageType(messageNameOf(input.typeUrl)), input.message));
  const sizes = inputs.map((input, i) => anyFieldSize(SotwField.resources, input.typeUrl, measured[i]!.size));
  const memory = Buffer.allocUnsafeSlow(sizes.reduce((sum, size) => sum + size, 0));
  let at = 0;
  return inputs.map((input, i) => {
    const field = memory.subarray(at, at += sizes[i]!);
    return new EncodedResource(input.typeUrl, input.name, measured[i]!, undefined, referencesOf(input.typeUrl, input.name, input.message as PlainListener & PlainCluster), field);
  });
}

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const EDS_DISCOVERY_TYPE = 3; // envoy.config.cluster.v3.Cluster.DiscoveryType.EDS

// The resources as given to encodeResource (already encoded, so of valid shapes). Values are read
// as fromObject converts them: strings through String(), enums by name or number.
interface PlainAny { '@type'?: string; type_url?: unknown; value?: unknown; rds?: { routeConfigName?: unknown } }
interface PlainFilterChain { filters?: { typedConfig?: PlainAny }[] }
interface PlainListener { filterChains?: PlainFilterChain[]; defaultFilterChain?: PlainFilterChain; apiListener?: { apiListener?: PlainAny } }
interface PlainCluster { type?: unknown; edsClusterConfig?: { serviceName?: unknown } }

/** What a cluster or listener points at (EDS service names, RDS route configuration names). */
function referencesOf(typeUrl: string, name: string, message: PlainListener & PlainCluster): ResourceRef[] {
  if (typeUrl === TypeUrl.Cluster) {
    const cluster: PlainCluster = message;
    if (cluster.type !== 'EDS' && cluster.type !== EDS_DISCOVERY_TYPE) return [];
    const serviceName = cluster.edsClusterConfig?.serviceName;
    return [{ typeUrl: TypeUrl.ClusterLoadAssignment, name: (serviceName != null ? String(serviceName) : '') || name }];
  }
  if (typeUrl !== TypeUrl.Listener) return [];
  const listener: PlainListener = message;
  const configs: PlainAny[] = [];
  for (const chain of [...(listener.filterChains ?? []), ...(listener.defaultFilterChain ? [listener.defaultFilterChain] : [])]) {
    for (const filter of chain.filters ?? []) if (filter.typedConfig) configs.push(filter.typedConfig);
  }
  if (listener.apiListener?.apiListener) configs.push(listener.apiListener.apiListener);
  const routes = new Set<string>();
  for (const any of configs) {
    const route = rdsRouteName(any);
    if (route) routes.add(route);
  }
  return [...routes].sort().map((route) => ({ typeUrl: TypeUrl.RouteConfiguration, name: route }));
}

/** The RDS route configuration an Any holding an HttpConnectionManager names, in either form of Any. */
function rdsRouteName(any: PlainAny): string | undefined {
  const target = any['@type'] ? planOf(messageType('google.protobuf.Any')).anyTarget(any['@type']) : undefined;
  if (target) {
    if (!target.typeUrl.endsWith(`/${HCM_TYPE}`)) return undefined;
    const routeName = any.rds?.routeConfigName;
    return routeName != null ? String(routeName) : undefined;
  }
  // `{type_url, value}`: the HttpConnectionManager already encoded.
  const value = any.value != null ? convertScalar('bytes', any.value) : undefined;
  if (any.type_url == null || !String(any.type_url).endsWith(`/${HCM_TYPE}`) || !value) return undefined;
  const hcm = messageType(HCM_TYPE).decode(Uint8Array.from(value as ArrayLike<number>)) as unknown as { rds?: { routeConfigName?: string } };
  return hcm.rds?.routeConfigName;
}
