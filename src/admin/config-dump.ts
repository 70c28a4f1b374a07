// What meshd would serve one node now, decoded from the snapshot cache to JSON (Anys expanded
// with their `@type`), plus the node's secrets as their public parts. Node credentials are
// redacted wherever they could appear: gRPC initial_metadata entries and node metadata fields.
import { CREDENTIAL_HEADER, CREDENTIAL_NODE_METADATA_KEY } from '../auth/node-credential';
import { messageType } from '../xds/protos';
import { WARMING_ORDER, messageNameOf, shortTypeName } from '../xds/type-urls';
import type { MeshEndpointId } from '../identity/endpoint-id';
import type { SecretView, SnapshotSource } from './types';

export const REDACTED = '[redacted]';

export interface DumpedResource {
  name: string;
  version: string;
  resource: Record<string, unknown>;
}

export interface DumpedTypeConfig {
  typeUrl: string;
  type: string;
  /** The type's version (what a SotW response carries). */
  version: string;
  resources: DumpedResource[];
}

export interface ConfigDump {
  node: string;
  endpoint: string;
  configs: DumpedTypeConfig[];
  secrets: SecretView[];
}

/** The node's current configuration, or undefined when meshd has none for it. */
export function dumpNodeConfig(endpoint: MeshEndpointId, nodeId: string, source: SnapshotSource, secrets: SecretView[] = []): ConfigDump | undefined {
  const snapshot = source.getSnapshot(endpoint.key);
  if (!snapshot && secrets.length === 0) return undefined;
  const order = (typeUrl: string): number => {
    const index = (WARMING_ORDER as readonly string[]).indexOf(typeUrl);
    return index < 0 ? WARMING_ORDER.length : index;
  };
  const configs: DumpedTypeConfig[] = (snapshot?.typeUrls() ?? [])
    .sort((a, b) => order(a) - order(b))
    .map((typeUrl) => {
      const set = snapshot!.get(typeUrl)!;
      return {
        typeUrl,
        type: shortTypeName(typeUrl),
        version: set.version,
        resources: [...set.resources.values()].map((r) => ({
          name: r.name,
          version: r.version,
          resource: { '@type': typeUrl, ...resourceJson(typeUrl, r.value) },
        })),
      };
    });
  return redactCredentials({ node: nodeId, endpoint: endpoint.key, configs, secrets });
}

/** A resource decoded to JSON, Anys expanded (`@type`), 64-bit numbers and bytes as strings. */
export function resourceJson(typeUrl: string, value: Uint8Array): Record<string, unknown> {
  const Type = messageType(messageNameOf(typeUrl));
  return Type.toObject(Type.decode(value), { json: true, enums: String, longs: String, defaults: false }) as Record<string, unknown>;
}

/**
 * A resource's bytes with credentials and keys redacted (see redactCredentials). Re-encoded only
 * when something was replaced, so ordinary resources keep their exact bytes.
 */
export function redactedResourceBytes(typeUrl: string, value: Uint8Array): Uint8Array {
  const json = resourceJson(typeUrl, value);
  const redacted = redactCredentials(json);
  if (JSON.stringify(redacted) === JSON.stringify(json)) return value;
  const Type = messageType(messageNameOf(typeUrl));
  return Type.encode(Type.fromObject(redacted)).finish();
}

const HEADER = CREDENTIAL_HEADER.toLowerCase();
/** A TLS certificate's key (a DataSource) in either field spelling; replaced by a redacted one. */
const PRIVATE_KEY_FIELDS = new Set(['privateKey', 'private_key']);

/**
 * A deep copy with node credentials replaced: `{key: x-meshd-node-token, value}` header entries
 * (initial_metadata, in either field spelling) and `meshd_node_token` fields (node metadata); and
 * `privateKey` fields, should a Secret resource ever reach a dump.
 */
export function redactCredentials<T>(value: T): T {
  return redact(value) as T;
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const source = value as Record<string, unknown>;
  const isCredentialHeader = typeof source.key === 'string' && source.key.toLowerCase() === HEADER;
  const out: Record<string, unknown> = {};
  for (const [field, inner] of Object.entries(source)) {
    if (PRIVATE_KEY_FIELDS.has(field)) out[field] = inner !== null && typeof inner === 'object' ? { inlineString: REDACTED } : REDACTED;
    else if (field === CREDENTIAL_NODE_METADATA_KEY) out[field] = REDACTED;
    else if (isCredentialHeader && (field === 'value' || field === 'rawValue' || field === 'raw_value')) out[field] = REDACTED;
    else out[field] = redact(inner);
  }
  return out;
}
