// The fleet as every replica registered it (see fleet-registry.ts), kept in memory from one read
// and an etcd watch from the revision after it, so /status and CSDS read it without a round trip
// to etcd. Entries that vanish (a replica stopped, or its lease expired) vanish here through the
// watch's delete events. A value that does not parse is skipped, naming its key.
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { logger } from '../log';
import { fleetPrefix, type FleetProxy, type FleetReplica, type FleetReplicaInfo } from './fleet-registry';
import { ETCD_CLEANUP_MS, settleWithin } from '../util/settle-within';

const log = logger('fleet');

export class FleetView {
  private readonly prefix: string;
  private readonly infos = new Map<string, FleetReplicaInfo>();
  /** By replica, then by bucket key. */
  private readonly proxies = new Map<string, Map<string, readonly FleetProxy[]>>();
  private watcher: Watcher | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly client: Etcd3, storePrefix: string) {
    this.prefix = fleetPrefix(storePrefix);
  }

  /** Reads the fleet and starts following it; rejects when etcd cannot be read. */
  async start(): Promise<void> {
    const response = await this.client.getAll().prefix(this.prefix).exec();
    for (const kv of response.kvs) this.put(kv);
    const next = (BigInt(response.header.revision) + 1n).toString();
    this.watcher = await this.client.watch().prefix(this.prefix).startRevision(next).create();
    this.watcher.on('put', (kv) => { this.put(kv); this.changed(); });
    this.watcher.on('delete', (kv) => { this.remove(kv.key.toString('utf8')); this.changed(); });
  }

  /** Calls `listener` after every change the watch delivers. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Every registered replica with its proxies, by name. A replica whose info is gone is left out. */
  replicas(): FleetReplica[] {
    return [...this.infos.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((info) => ({ ...info, proxies: [...(this.proxies.get(info.name)?.values() ?? [])].flat() }));
  }

  async close(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher) await settleWithin(watcher.cancel(), ETCD_CLEANUP_MS);
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** `<replica>/info` or `<replica>/proxies/<bucket>` under the fleet prefix. */
  private parts(key: string): { replica: string; rest: string } | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const relative = key.slice(this.prefix.length);
    const slash = relative.indexOf('/');
    return slash > 0 ? { replica: relative.slice(0, slash), rest: relative.slice(slash + 1) } : undefined;
  }

  private put(kv: IKeyValue): void {
    const key = kv.key.toString('utf8');
    const parts = this.parts(key);
    if (!parts) return;
    let value: unknown;
    try {
      value = JSON.parse(kv.value.toString('utf8'));
    } catch (err) {
      log.warn({ key, err: (err as Error).message }, 'fleet entry is not JSON; skipped');
      return;
    }
    if (parts.rest === 'info') {
      const info = value as Partial<FleetReplicaInfo>;
      if (typeof info?.name !== 'string' || !Array.isArray(info.xds)) {
        log.warn({ key }, 'fleet entry is not a replica registration; skipped');
        return;
      }
      this.infos.set(parts.replica, { ...info, name: parts.replica } as FleetReplicaInfo);
    } else if (parts.rest.startsWith('proxies/')) {
      if (!Array.isArray(value) || !value.every(isFleetProxy)) {
        log.warn({ key }, 'fleet entry is not a list of proxies; skipped');
        return;
      }
      let buckets = this.proxies.get(parts.replica);
      if (!buckets) this.proxies.set(parts.replica, (buckets = new Map()));
      buckets.set(parts.rest, value);
    }
  }

  private remove(key: string): void {
    const parts = this.parts(key);
    if (!parts) return;
    if (parts.rest === 'info') this.infos.delete(parts.replica);
    else this.proxies.get(parts.replica)?.delete(parts.rest);
    if (this.proxies.get(parts.replica)?.size === 0) this.proxies.delete(parts.replica);
  }
}

function isFleetProxy(value: unknown): value is FleetProxy {
  const proxy = value as Partial<FleetProxy> | null;
  return typeof proxy?.nodeId === 'string' && typeof proxy.endpoint === 'string' && typeof proxy.since === 'string'
    && Array.isArray(proxy.streams) && typeof proxy.types === 'object' && proxy.types !== null;
}
