// The fleet registry: each meshd replica on etcd publishes who it is and which proxies it serves,
// under an etcd lease it keeps alive, so every replica (and `meshd status` through any of them)
// sees the whole fleet, and a dead replica's entries vanish when its lease expires.
//
// Keys, under `<prefix>fleet/<replica>/`:
//   info                  the replica (name, xDS/admin/API addresses, start time)
//   proxies/<bucket>      the proxies it serves whose node id hashes to that bucket (JSON array)
// Why buckets on a timer rather than one key per proxy or one document per replica: a replica
// with 10,000 proxies sees every one of them ACK each mesh change within a second. One key per
// proxy would be 10,000 writes per change; one document per replica would be ~2 MB, past etcd's
// default 1.5 MiB request limit. Instead the proxies are spread over BUCKETS keys, and at most
// one flush runs per interval (default 1 s), writing only the buckets whose text changed: at most
// BUCKETS writes per interval per replica, whatever the number of proxies or how fast they churn,
// each well under etcd's limits (10,000 proxies are ~300 per bucket, ~60 KB).
import { hostname } from 'node:os';
import type { Etcd3, Lease } from 'etcd3';
import { logger } from '../log';
import { ETCD_CLEANUP_MS, settleWithin } from '../util/settle-within';

const log = logger('fleet');

/** How many keys a replica spreads its proxies over. */
export const FLEET_BUCKETS = 32;
export const DEFAULT_FLEET_LEASE_TTL_SECONDS = 10;
export const DEFAULT_FLEET_FLUSH_MS = 1000;

/** One replica, as it registers itself. */
export interface FleetReplicaInfo {
  /** Stable name, unique in the fleet (`--replica-name`; default host name and PID). */
  readonly name: string;
  /** ADS addresses it listens on. */
  readonly xds: readonly string[];
  readonly admin?: string;
  readonly api?: string;
  /** ISO 8601. */
  readonly startedAt: string;
}

/** Where one type stands for a proxy, as the replica serving it sees it. */
export interface FleetTypeState {
  readonly state: 'synced' | 'pending' | 'nacked' | 'not_sent';
  readonly sent?: string;
  readonly acked?: string;
  /** The proxy's last NACK message, clipped (only while the state is nacked). */
  readonly nack?: string;
}

/** One proxy (node id) served by a replica: all of its streams together. */
export interface FleetProxy {
  readonly nodeId: string;
  /** Canonical mesh endpoint key. */
  readonly endpoint: string;
  /** ISO 8601: when its oldest open stream connected. */
  readonly since: string;
  /** Its streams as `SERVICE/flavor`, e.g. `ADS/sotw`, `SDS/delta`. */
  readonly streams: readonly string[];
  /** By short type name (CDS, EDS, LDS, RDS, SDS). */
  readonly types: Readonly<Record<string, FleetTypeState>>;
}

/** A replica and its proxies, as the fleet view reads them. */
export interface FleetReplica extends FleetReplicaInfo {
  readonly proxies: readonly FleetProxy[];
}

/** A replica name is one etcd key segment. */
export function checkReplicaName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    throw new Error(`--replica-name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-' (up to 128, starting with a letter or digit)`);
  }
  return name;
}

/** The default replica name: this host and process. */
export function defaultReplicaName(): string {
  return checkReplicaName(`${hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'meshd'}-${process.pid}`);
}

/** `<prefix>fleet/`: where every replica's entries live. */
export function fleetPrefix(storePrefix: string): string {
  return `${storePrefix}fleet/`;
}

/** FNV-1a of the node id: a stable bucket, so a proxy's entry stays in one key. */
export function bucketOf(nodeId: string, buckets = FLEET_BUCKETS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < nodeId.length; i++) {
    hash ^= nodeId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % buckets;
}

export interface FleetRegistryOptions {
  client: Etcd3;
  /** The store's key prefix (`/meshd/`); entries go under `<prefix>fleet/<replica>/`. */
  prefix: string;
  replica: FleetReplicaInfo;
  /** The proxies this replica serves now (read at each flush). */
  proxies: () => readonly FleetProxy[];
  /** Lease TTL: how long a dead replica's entries outlive it (default 10 s). */
  leaseTtlSeconds?: number;
  /** At most one flush per this long (default 1 s). */
  flushIntervalMs?: number;
}

export class FleetRegistry {
  private readonly base: string;
  private lease: Lease | undefined;
  /** Text last written to each bucket; a bucket not here holds nothing. */
  private written = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private dirty = false;
  private lastFlushAt = 0;
  private closed = false;
  /** Set while publishing fails, so an etcd outage is logged once, not every interval. */
  private failing = false;
  /** Set once the first registration succeeded: a lease lost before that is start()'s failure. */
  private registered = false;
  /** Flushes run one after another, so an older one cannot land after a newer one. */
  private flushChain: Promise<void> = Promise.resolve();

  constructor(private readonly options: FleetRegistryOptions) {
    this.base = `${fleetPrefix(options.prefix)}${checkReplicaName(options.replica.name)}/`;
  }

  get name(): string {
    return this.options.replica.name;
  }

  /** Registers the replica under a new lease and writes its proxies; rejects when etcd refuses. */
  async start(): Promise<void> {
    await this.register();
  }

  /** Something about the proxies changed: flush within the interval (coalescing). */
  changed(): void {
    this.dirty = true;
    if (this.closed || this.timer || this.flushing) return;
    const wait = Math.max(0, this.lastFlushAt + this.interval - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.dirty) this.changed();
      });
    }, wait);
  }

  /** Writes what changed now (tests and shutdown); resolves when written. */
  async flushNow(): Promise<void> {
    await this.flushing;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Stops publishing and revokes the lease, so this replica's entries vanish at once. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.flushing) await settleWithin(this.flushing, ETCD_CLEANUP_MS);
    const lease = this.lease;
    this.lease = undefined;
    const revoked = lease ? lease.revoke().then(() => true, (err: Error) => { log.warn({ err: err.message }, 'could not revoke the fleet lease; the entries vanish when it expires'); return false; }) : Promise.resolve(true);
    if (!(await settleWithin(revoked, ETCD_CLEANUP_MS))) log.warn('etcd did not answer the fleet lease revocation in time; the entries vanish when it expires');
  }

  private get interval(): number {
    return this.options.flushIntervalMs ?? DEFAULT_FLEET_FLUSH_MS;
  }

  /** A new lease, the info key, and every bucket written anew under it. */
  private async register(): Promise<void> {
    const ttl = this.options.leaseTtlSeconds ?? DEFAULT_FLEET_LEASE_TTL_SECONDS;
    const lease = this.options.client.lease(ttl, { autoKeepAlive: true });
    this.lease = lease;
    lease.on('lost', (err) => {
      if (this.closed || this.lease !== lease || !this.registered) return;
      log.warn({ err: err.message, replica: this.name }, 'lost the fleet lease (not renewed within its TTL: etcd unreachable, or this process starved of CPU); registering again');
      this.reregister();
    });
    const infoKey = `${this.base}info`;
    const previous = await this.options.client.get(infoKey).exec();
    const held = previous.kvs[0];
    if (held && held.lease !== '0') {
      // A key still under another lease: this replica restarted within the TTL, or another live
      // replica has the same name. Writing under our lease detaches it from the old one.
      log.warn({ replica: this.name }, `replica name ${this.name} is already registered; taking it over (give each replica its own --replica-name)`);
    }
    await lease.put(infoKey).value(JSON.stringify(this.options.replica)).exec();
    this.written = new Map();
    this.dirty = true;
    await this.flush();
    this.registered = true;
  }

  /** After a lost lease: try again every interval until registered or closed. */
  private reregister(): void {
    const attempt = (): void => {
      if (this.closed) return;
      this.register().catch((err: Error) => {
        log.warn({ err: err.message }, 'could not register in the fleet; retrying');
        setTimeout(attempt, Math.max(this.interval, 1000)).unref();
      });
    };
    attempt();
  }

  private flush(): Promise<void> {
    const run = this.flushChain.then(() => this.flushOnce());
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  /** Writes the buckets whose text changed since the last successful flush. */
  private async flushOnce(): Promise<void> {
    const lease = this.lease;
    if (this.closed || !lease || !this.dirty) return;
    this.dirty = false;
    this.lastFlushAt = Date.now();
    const buckets = new Map<number, FleetProxy[]>();
    for (const proxy of this.options.proxies()) {
      const bucket = bucketOf(proxy.nodeId);
      let list = buckets.get(bucket);
      if (!list) buckets.set(bucket, (list = []));
      list.push(proxy);
    }
    const writes: Promise<unknown>[] = [];
    const next = new Map<number, string>();
    for (let bucket = 0; bucket < FLEET_BUCKETS; bucket++) {
      const list = buckets.get(bucket);
      const key = `${this.base}proxies/${String(bucket).padStart(2, '0')}`;
      const text = list ? JSON.stringify(list.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))) : undefined;
      if (text !== undefined) next.set(bucket, text);
      if (text === this.written.get(bucket)) continue;
      writes.push(text === undefined ? this.options.client.delete().key(key).exec() : lease.put(key).value(text).exec());
    }
    try {
      await Promise.all(writes);
      this.written = next;
      if (this.failing) log.info({ replica: this.name }, 'publishing to the fleet view again');
      this.failing = false;
    } catch (err) {
      // Written again in full at the next flush; the lease keeps what was written before.
      this.written = new Map();
      this.dirty = true;
      if (!this.failing) log.warn({ err: (err as Error).message }, 'could not publish this replica\'s proxies to the fleet view; retrying every interval');
      this.failing = true;
      if (!this.closed) setTimeout(() => this.changed(), this.interval).unref();
    }
  }
}
