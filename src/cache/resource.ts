// A resource encoded once: the bytes every stream shares, its content version, and the names of
// the resources it depends on (a listener's route configurations, a cluster's endpoints), which
// the snapshot's consistency check and the warming order rely on.
import { hash } from 'node:crypto';
import { messageType } from '../xds/protos';
import { TypeUrl, messageNameOf } from '../xds/type-urls';
import { anyField, deltaResourceField, SotwField } from '../xds/wire';

export interface ResourceRef {
  typeUrl: string;
  name: string;
}

export class EncodedResource {
  /** The google.protobuf.Any holding the resource. */
  readonly any: Buffer;
  /** `resources` field of a DiscoveryResponse, ready to concatenate. */
  readonly sotwField: Buffer;
  /** Serialized message (the Any's value). */
  readonly value: Uint8Array;
  private deltaFieldBytes: Buffer | undefined;

  constructor(
    readonly typeUrl: string,
    readonly name: string,
    value: Uint8Array,
    /** Content-derived: the same bytes give the same version across restarts. */
    readonly version: string,
    readonly dependsOn: readonly ResourceRef[],
  ) {
    // The three encodings nest (field > Any > value): the Any and the value are views into the
    // field, so a resource is held once, not three times (10,000 SDS snapshots held ~7 KB each).
    const { field, any } = anyField(SotwField.resources, typeUrl, value);
    this.sotwField = field;
    this.any = any;
    this.value = field.subarray(field.length - value.length);
  }

  /** `resources` field of a DeltaDiscoveryResponse; built on first use, then shared. */
  get deltaField(): Buffer {
    this.deltaFieldBytes ??= deltaResourceField(this.name, this.version, this.any);
    return this.deltaFieldBytes;
  }
}

export function contentVersion(bytes: Uint8Array | string): string {
  // One-shot: no Hash object per resource.
  return hash('sha256', bytes, 'hex').slice(0, 16);
}

/**
 * Encodes a resource given as a protobufjs-shaped object (camelCase fields, enums by name, Any
 * fields as `{'@type': url, ...fields}`).
 */
export function encodeResource(typeUrl: string, name: string, message: object): EncodedResource {
  const Type = messageType(messageNameOf(typeUrl));
  const normalized = Type.fromObject(message);
  const bytes = Type.encode(normalized).finish();
  return new EncodedResource(typeUrl, name, bytes, contentVersion(bytes), referencesOf(typeUrl, name, normalized as unknown as ConvertedMessage));
}

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const EDS_DISCOVERY_TYPE = 3; // envoy.config.cluster.v3.Cluster.DiscoveryType.EDS

interface DecodedAny { type_url?: string; value?: Uint8Array }
interface DecodedFilterChain { filters?: { typedConfig?: DecodedAny }[] }
interface DecodedListener { filterChains?: DecodedFilterChain[]; defaultFilterChain?: DecodedFilterChain; apiListener?: { apiListener?: DecodedAny } }
interface DecodedCluster { type?: number; edsClusterConfig?: { serviceName?: string } }
/** A message as protobufjs's fromObject made it: the shape decoding gives (enums as numbers, Any as type_url and value). */
type ConvertedMessage = DecodedCluster & DecodedListener;

/**
 * What a cluster or listener points at (EDS service names, RDS route configuration names), read
 * from the message as converted for encoding (the same shape decoding its bytes would give, so
 * it holds whatever shape the message was built from, without decoding it again).
 */
function referencesOf(typeUrl: string, name: string, message: ConvertedMessage): ResourceRef[] {
  if (typeUrl === TypeUrl.Cluster) {
    const cluster: DecodedCluster = message;
    if (cluster.type !== EDS_DISCOVERY_TYPE) return [];
    return [{ typeUrl: TypeUrl.ClusterLoadAssignment, name: cluster.edsClusterConfig?.serviceName || name }];
  }
  if (typeUrl !== TypeUrl.Listener) return [];
  const listener: DecodedListener = message;
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
