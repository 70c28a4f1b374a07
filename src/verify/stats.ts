// Reading Envoy's admin `/stats` text: one `name: value` line per counter or gauge, followed by
// histogram lines (`name: P0(...) P25(...)` or `name: No recorded values`) that carry no count.
// From the counters we keep the TLS ones the App Mesh documents tell operators to check, per
// listener (`listener.<stat_prefix>.ssl.*`) and per cluster (`cluster.<name>.ssl.*`).

/** The TLS counters reported, in the order they are shown. */
export const TLS_COUNTERS = [
  'handshake',
  'no_certificate',
  'fail_verify_no_cert',
  'fail_verify_san',
  'fail_verify_error',
  'fail_verify_cert_hash',
  'connection_error',
] as const;
export type TlsCounter = (typeof TLS_COUNTERS)[number];
/** TLS counters of one listener or cluster; a counter Envoy did not print is absent. */
export type TlsCounters = Partial<Record<TlsCounter, number>>;

/** One listener, by stat prefix (e.g. `0.0.0.0_15000`). */
export interface ListenerStats {
  name: string;
  /** Its `ssl.*` counters, or null when the listener has no TLS transport socket. */
  tls: TlsCounters | null;
  /** listener.<name>.downstream_cx_total: every connection the listener accepted. */
  connectionsTotal?: number;
  /** listener.<name>.downstream_cx_active. */
  connectionsActive?: number;
  /** listener.<name>.no_filter_chain_match: connections refused before any filter chain ran. */
  noFilterChainMatch?: number;
}

/** One cluster that originates TLS. */
export interface ClusterStats {
  name: string;
  tls: TlsCounters;
}

export interface TlsStats {
  listeners: ListenerStats[];
  clusters: ClusterStats[];
}

/** Parses `/stats` text into name -> value; histogram and text lines are skipped. */
export function parseStatsText(text: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const separator = line.indexOf(': ');
    if (separator <= 0) continue;
    const value = line.slice(separator + 2).trim();
    if (!/^\d+$/.test(value)) continue;
    stats.set(line.slice(0, separator), Number(value));
  }
  if (stats.size === 0) {
    throw new Error(`no "name: value" statistics found (${text.length} bytes; is this an Envoy admin /stats?)`);
  }
  return stats;
}

// Lazy names with an anchored counter let both names and counters contain dots. The documents show
// a doubled `ssl.ssl.fail_verify_san`; it is read as `ssl.fail_verify_san`.
const TLS_STAT = new RegExp(`^(listener|cluster)\\.(.+?)\\.ssl\\.(?:ssl\\.)?(${TLS_COUNTERS.join('|')})$`);
const LISTENER_STAT = /^listener\.(.+?)\.(downstream_cx_total|downstream_cx_active|no_filter_chain_match)$/;

/** Envoy's own admin listener and per-worker copies are not mesh listeners. */
function isMeshListener(name: string): boolean {
  return name !== 'admin' && !name.startsWith('admin.') && !/\.worker_\d+$/.test(name);
}

/** Groups the TLS counters by listener and cluster, sorted by name. */
export function collectTlsStats(stats: ReadonlyMap<string, number>): TlsStats {
  const listeners = new Map<string, ListenerStats>();
  const clusters = new Map<string, ClusterStats>();
  const listener = (name: string): ListenerStats => {
    let entry = listeners.get(name);
    if (!entry) listeners.set(name, (entry = { name, tls: null }));
    return entry;
  };
  for (const [stat, value] of stats) {
    const tls = TLS_STAT.exec(stat);
    if (tls) {
      const [, scope, name, counter] = tls as unknown as [string, 'listener' | 'cluster', string, TlsCounter];
      if (scope === 'cluster') {
        let entry = clusters.get(name);
        if (!entry) clusters.set(name, (entry = { name, tls: {} }));
        entry.tls[counter] = (entry.tls[counter] ?? 0) + value;
      } else if (isMeshListener(name)) {
        const entry = listener(name);
        entry.tls ??= {};
        entry.tls[counter] = (entry.tls[counter] ?? 0) + value;
      }
      continue;
    }
    const cx = LISTENER_STAT.exec(stat);
    if (cx && isMeshListener(cx[1]!)) {
      const entry = listener(cx[1]!);
      if (cx[2] === 'downstream_cx_total') entry.connectionsTotal = value;
      else if (cx[2] === 'downstream_cx_active') entry.connectionsActive = value;
      else entry.noFilterChainMatch = value;
    }
  }
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { listeners: [...listeners.values()].sort(byName), clusters: [...clusters.values()].sort(byName) };
}
