// Reading Envoy's admin `/config_dump` for what each listener and cluster is configured to do with
// TLS, which /stats can only hint at: a listener's filter chains carry a DownstreamTlsContext
// (with require_client_certificate for mutual TLS) or no TLS at all, and a cluster's
// UpstreamTlsContext says whether it presents a client certificate.
//
// Two shapes are read: the whole dump (`configs` holds a ListenersConfigDump and a
// ClustersConfigDump with static_* and dynamic_* arrays) and the per-resource dump that
// `?resource=dynamic_listeners` / `?resource=dynamic_active_clusters` give (`configs` holds one
// DynamicListener or DynamicCluster per entry). Envoy prints snake_case; camelCase is read too.

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';
const TLS_CONTEXT = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.';
const RAW_BUFFER = 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';

/**
 * What a listener accepts: `plaintext` (no TLS chain), `one-way-tls` (TLS only, not every TLS
 * chain requires a client certificate), `mutual-tls` (TLS only, every chain requires one),
 * `permissive` (TLS and plaintext chains side by side), `unknown` (a transport socket that is
 * neither TLS nor raw buffer, or nothing read from /config_dump).
 */
export type ListenerPosture = 'plaintext' | 'one-way-tls' | 'mutual-tls' | 'permissive' | 'unknown';
/** What a cluster originates: no TLS, TLS without or with a client certificate, or not known. */
export type ClusterPosture = 'plaintext' | 'one-way-tls' | 'mutual-tls' | 'unknown';

/** One active listener as configured. */
export interface ListenerConfig {
  /** Envoy's listener name, e.g. `lds_ingress_127.0.0.1_15000`. */
  name: string;
  /** The name its statistics carry (`listener.<statName>.*`): stat_prefix, else `<ip>_<port>`. */
  statName: string;
  /** The port it binds, when it binds a socket address. */
  port?: number;
  posture: ListenerPosture;
  /** Filter chains terminating TLS. */
  tlsChains: number;
  /** Of those, the ones with require_client_certificate. */
  mutualChains: number;
  /** Filter chains without a transport socket (or with raw_buffer). */
  plaintextChains: number;
}

/** One cluster as configured. */
export interface ClusterConfig {
  name: string;
  /** The name its statistics carry (`cluster.<statName>.*`): alt_stat_name, else its name. */
  statName: string;
  posture: ClusterPosture;
}

/** Everything read from the dump; listeners and clusters sorted by statName. */
export interface TlsConfig {
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** A field by its proto name in either JSON spelling. */
function field(obj: JsonObject, snake: string): Json | undefined {
  return obj[snake] ?? obj[camel(snake)];
}

function objectAt(obj: JsonObject, snake: string): JsonObject | undefined {
  const value = field(obj, snake);
  return isObject(value) ? value : undefined;
}

function objectsAt(obj: JsonObject, snake: string, where: string): JsonObject[] {
  const value = field(obj, snake);
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${where}${snake}: expected an array`);
  return value.filter(isObject);
}

function stringAt(obj: JsonObject, snake: string): string | undefined {
  const value = field(obj, snake);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A google.protobuf.BoolValue prints as a bare boolean; its object form is read too. */
function boolAt(obj: JsonObject, snake: string): boolean {
  const value = field(obj, snake);
  return value === true || (isObject(value) && value.value === true);
}

/** Envoy turns `:` in stat names into `_`, so `[::]:15000` is counted as `[__]_15000`. */
function statName(name: string): string {
  return name.replace(/:/g, '_');
}

type SocketKind = 'plaintext' | 'tls' | 'mutual-tls' | 'other';

function downstreamSocketKind(socket: JsonObject | undefined): SocketKind {
  if (!socket) return 'plaintext';
  const config = objectAt(socket, 'typed_config');
  const type = config ? stringAt(config, '@type') : undefined;
  if (config && type === `${TLS_CONTEXT}DownstreamTlsContext`) return boolAt(config, 'require_client_certificate') ? 'mutual-tls' : 'tls';
  if (type === RAW_BUFFER || (type === undefined && stringAt(socket, 'name') === 'envoy.transport_sockets.raw_buffer')) return 'plaintext';
  return 'other';
}

function listenerConfigOf(listener: JsonObject, where: string): ListenerConfig {
  const name = stringAt(listener, 'name') ?? '';
  const socketAddress = objectAt(objectAt(listener, 'address') ?? {}, 'socket_address');
  const ip = socketAddress ? stringAt(socketAddress, 'address') : undefined;
  const portValue = socketAddress ? field(socketAddress, 'port_value') : undefined;
  const port = typeof portValue === 'number' ? portValue : undefined;
  const addressName = ip !== undefined && port !== undefined ? `${ip.includes(':') ? `[${ip}]` : ip}:${port}` : undefined;
  const prefix = stringAt(listener, 'stat_prefix') ?? addressName ?? name;
  const chains = objectsAt(listener, 'filter_chains', `${where}.`);
  const fallback = objectAt(listener, 'default_filter_chain');
  if (fallback) chains.push(fallback);
  const kinds = chains.map((chain) => downstreamSocketKind(objectAt(chain, 'transport_socket')));
  const count = (...wanted: SocketKind[]): number => kinds.filter((kind) => wanted.includes(kind)).length;
  const tlsChains = count('tls', 'mutual-tls');
  const mutualChains = count('mutual-tls');
  const plaintextChains = count('plaintext');
  let posture: ListenerPosture;
  if (count('other') > 0) posture = 'unknown';
  else if (tlsChains === 0) posture = 'plaintext';
  else if (plaintextChains > 0) posture = 'permissive';
  else posture = mutualChains === tlsChains ? 'mutual-tls' : 'one-way-tls';
  const config: ListenerConfig = { name, statName: statName(prefix), posture, tlsChains, mutualChains, plaintextChains };
  if (port !== undefined) config.port = port;
  return config;
}

function clusterConfigOf(cluster: JsonObject): ClusterConfig {
  const name = stringAt(cluster, 'name') ?? '';
  const socket = objectAt(cluster, 'transport_socket');
  const config = socket ? objectAt(socket, 'typed_config') : undefined;
  const type = config ? stringAt(config, '@type') : undefined;
  let posture: ClusterPosture;
  if (config && type === `${TLS_CONTEXT}UpstreamTlsContext`) {
    const common = objectAt(config, 'common_tls_context') ?? {};
    const presents = objectsAt(common, 'tls_certificate_sds_secret_configs', '').length > 0 || objectsAt(common, 'tls_certificates', '').length > 0;
    posture = presents ? 'mutual-tls' : 'one-way-tls';
  } else if (!socket || type === RAW_BUFFER) {
    // Clusters that pick their socket per endpoint are not judged from here.
    posture = field(cluster, 'transport_socket_matches') === undefined ? 'plaintext' : 'unknown';
  } else {
    posture = 'unknown';
  }
  return { name, statName: statName(stringAt(cluster, 'alt_stat_name') ?? name), posture };
}

/** The Listener / Cluster messages in one `configs` entry, of either dump shape. */
function resourcesOf(entry: JsonObject, where: string): { listeners: JsonObject[]; clusters: JsonObject[] } {
  const type = stringAt(entry, '@type') ?? '';
  const inner = (holder: JsonObject, key: string): JsonObject[] => {
    const value = objectAt(holder, key);
    return value ? [value] : [];
  };
  switch (type) {
    case `${ADMIN}ListenersConfigDump`:
      return {
        listeners: [
          ...objectsAt(entry, 'static_listeners', `${where}.`).flatMap((s) => inner(s, 'listener')),
          // Only the active state serves traffic; warming and draining copies are not judged.
          ...objectsAt(entry, 'dynamic_listeners', `${where}.`).flatMap((d) => inner(objectAt(d, 'active_state') ?? {}, 'listener')),
        ],
        clusters: [],
      };
    case `${ADMIN}ListenersConfigDump.DynamicListener`:
      return { listeners: inner(objectAt(entry, 'active_state') ?? {}, 'listener'), clusters: [] };
    case `${ADMIN}ListenersConfigDump.StaticListener`:
      return { listeners: inner(entry, 'listener'), clusters: [] };
    case `${ADMIN}ClustersConfigDump`:
      return {
        listeners: [],
        clusters: [...objectsAt(entry, 'static_clusters', `${where}.`), ...objectsAt(entry, 'dynamic_active_clusters', `${where}.`)]
          .flatMap((c) => inner(c, 'cluster')),
      };
    case `${ADMIN}ClustersConfigDump.StaticCluster`:
    case `${ADMIN}ClustersConfigDump.DynamicCluster`:
      return { listeners: [], clusters: inner(entry, 'cluster') };
    default:
      return { listeners: [], clusters: [] };
  }
}

/**
 * Reads one or more `/config_dump` outputs (whole or per resource) into listener and cluster
 * postures. Throws, naming the place, on output that is not a config dump.
 */
export function parseConfigDump(...texts: string[]): TlsConfig {
  const listeners = new Map<string, ListenerConfig>();
  const clusters = new Map<string, ClusterConfig>();
  texts.forEach((text, t) => {
    const doc = ((): Json => {
      try {
        return JSON.parse(text) as Json;
      } catch (err) {
        throw new Error(`not JSON (${(err as Error).message})`);
      }
    })();
    if (!isObject(doc) || !Array.isArray(doc.configs)) throw new Error('expected an object with "configs" (an Envoy admin /config_dump?)');
    const base = texts.length > 1 ? `[${t}] configs` : 'configs';
    doc.configs.forEach((entry, i) => {
      if (!isObject(entry)) throw new Error(`${base}[${i}]: expected an object`);
      const found = resourcesOf(entry, `${base}[${i}]`);
      found.listeners.forEach((listener, j) => {
        const config = listenerConfigOf(listener, `${base}[${i}].listener[${j}]`);
        listeners.set(config.statName, config);
      });
      for (const cluster of found.clusters) {
        const config = clusterConfigOf(cluster);
        clusters.set(config.statName, config);
      }
    });
  });
  const byStatName = (a: { statName: string }, b: { statName: string }): number => (a.statName < b.statName ? -1 : a.statName > b.statName ? 1 : 0);
  return { listeners: [...listeners.values()].sort(byStatName), clusters: [...clusters.values()].sort(byStatName) };
}

/** True for postures that terminate or originate TLS. */
export function isTlsPosture(posture: ListenerPosture | ClusterPosture): boolean {
  return posture === 'one-way-tls' || posture === 'mutual-tls' || posture === 'permissive';
}
