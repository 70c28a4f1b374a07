// etcd as a store, for several meshd replicas sharing one mesh: each entry is one etcd key,
// `<prefix>specs/<key>` (the key is the same spec file name the directory store uses, so export
// and import map entries to files one to one). An entry's revision is its etcd mod revision, and
// compare-and-put and delete are etcd transactions on it (or on create revision 0 for "absent"),
// so the compare holds across every replica, not only inside this process. Watching is etcd's own
// watch on the prefix; the client (etcd3 over grpc-js) reconnects and resumes it by itself.
import { Etcd3, type IOptions, type Watcher } from 'etcd3';
import { isSpecFile } from '../spec/load';
import { specKeyFor } from './keys';
import { StoreConflictError, type ExpectedRevision, type ResourceIdentity, type ResourceStore, type StoreEntry } from './types';
import { ETCD_CLEANUP_MS, settleWithin } from '../util/settle-within';

/** Where a `--store etcd://HOST:PORT[,HOST:PORT…]/PREFIX` points. */
export interface EtcdStoreTarget {
  /** `host:port` of each etcd member. */
  readonly endpoints: readonly string[];
  /** Key prefix every meshd key lives under, starting and ending with `/`. */
  readonly prefix: string;
}

/** Parses `etcd://HOST:PORT[,HOST:PORT…]/PREFIX`; throws naming what is wrong. */
export function parseStoreUrl(url: string): EtcdStoreTarget {
  const match = /^etcd:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!match) throw new Error(`--store ${url}: expected etcd://HOST:PORT[,HOST:PORT…]/PREFIX`);
  const endpoints = match[1]!.split(',');
  for (const endpoint of endpoints) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(endpoint)) throw new Error(`--store ${url}: "${endpoint}" is not HOST:PORT`);
  }
  const segments = match[2]!.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) throw new Error(`--store ${url}: the key prefix after the hosts is empty`);
  return { endpoints, prefix: `/${segments.join('/')}/` };
}

/** Options of `EtcdStore`. */
export interface EtcdStoreOptions {
  /** Quiet period after the last watch event before `watch` callbacks run (default 50 ms). */
  readonly watchHoldOffMs?: number;
  /** Deadline of each etcd request (default 5 s), so an unreachable etcd fails a call instead of hanging it. */
  readonly requestTimeoutMs?: number;
  /** Client TLS and etcd auth, passed to the etcd3 client as they are. */
  readonly client?: Pick<IOptions, 'credentials' | 'auth'>;
}

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/** Doubling delays from `firstMs`, never longer than `maxMs`. */
function cappedBackoff(firstMs: number, maxMs: number): WatchBackoff {
  return { duration: firstMs, next: () => cappedBackoff(Math.min(firstMs * 2, maxMs), maxMs) };
}

export class EtcdStore implements ResourceStore {
  readonly location: string;
  private readonly client: Etcd3;
  private readonly clientOptions: IOptions;
  /** Where entries live: `<prefix>specs/`. */
  private readonly specsPrefix: string;

  constructor(readonly target: EtcdStoreTarget, private readonly options: EtcdStoreOptions = {}) {
    this.location = `etcd://${target.endpoints.join(',')}${target.prefix}`;
    this.specsPrefix = `${target.prefix}specs/`;
    const timeoutMs = options.requestTimeoutMs ?? 5_000;
    this.clientOptions = {
      hosts: target.endpoints.map((endpoint) => `${options.client?.credentials ? 'https' : 'http'}://${endpoint}`),
      ...options.client,
      dialTimeout: timeoutMs,
      // etcd3 backs a lost watch off up to 30 s; capped at 2 s, a replica notices a returned etcd
      // (and resyncs) within about two seconds of it, however long it was away.
      faultHandling: { watchBackoff: cappedBackoff(100, 2_000) },
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    };
    this.client = new Etcd3(this.clientOptions);
  }

  async readAll(): Promise<StoreEntry[]> {
    const response = await this.request('read the entries', () => this.client.getAll().prefix(this.specsPrefix).sort('Key', 'Ascend').exec());
    return response.kvs.map((kv) => ({
      key: kv.key.toString('utf8').slice(this.specsPrefix.length),
      text: kv.value.toString('utf8'),
      revision: String(kv.mod_revision),
    }));
  }

  async watch(onChange: () => void, onConnection?: (down: string | undefined) => void): Promise<() => Promise<void>> {
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    const changed = (): void => {
      clearTimeout(timer);
      timer = setTimeout(onChange, this.options.watchHoldOffMs ?? 50);
    };
    const follow = (watcher: Watcher): void => {
      watcher.on('put', changed);
      watcher.on('delete', changed);
      let lost = false;
      // Only the current watcher speaks: a replaced one may still report its closing.
      const retired = (): boolean => current.watcher !== watcher;
      watcher.on('disconnected', (err: Error) => {
        if (retired()) return;
        if (!lost) onConnection?.(`store down: etcd store ${this.location}: the watch lost it: ${err.message}`);
        lost = true;
        // etcd3 would resume the watch at the revision after the last event seen, which etcd
        // refuses once a long outage let that history be compacted. The read that follows every
        // reconnection covers the gap, so the watch resumes from "now" instead.
        watcher.request.start_revision = undefined;
      });
      watcher.on('connected', () => {
        if (retired()) return;
        if (lost) {
          onConnection?.(undefined);
          changed();
        }
        lost = false;
      });
      // etcd ended the watch (it may cancel one at any time): start a new one on a new client
      // (etcd3's watch queue can stay stuck behind a refused watch), and read everything then.
      let ended = false;
      watcher.on('error', (err: Error) => {
        if (ended || retired()) return;
        ended = true;
        onConnection?.(`store down: etcd store ${this.location}: the watch ended: ${err.message}`);
        void renew();
      });
    };
    // Each watch has its own client, so it can be replaced without touching reads and writes.
    let current = { client: new Etcd3(this.clientOptions), watcher: undefined as Watcher | undefined };
    try {
      const first = await this.request('watch the entries', () => this.createWatcher(current.client));
      current.watcher = first;
      follow(first);
    } catch (err) {
      current.client.close();
      throw err;
    }
    const renew = async (): Promise<void> => {
      current.watcher = undefined;
      current.client.close();
      while (!closed) {
        const client = new Etcd3(this.clientOptions);
        try {
          const watcher = await this.createWatcher(client);
          if (closed) {
            client.close();
            return;
          }
          current = { client, watcher };
          follow(watcher);
          onConnection?.(undefined);
          changed();
          return;
        } catch {
          client.close();
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      }
    };
    return async () => {
      closed = true;
      clearTimeout(timer);
      if (current.watcher) await settleWithin(current.watcher.cancel(), ETCD_CLEANUP_MS);
      current.client.close();
    };
  }

  /**
   * A connected watch on the entries. etcd3's own create() waits for the first connection forever
   * (its watch reconnects quietly, even on refused credentials), so a read first surfaces TLS,
   * auth and reachability errors, and the wait is bounded by the request timeout.
   */
  private async createWatcher(client: Etcd3): Promise<Watcher> {
    await client.get(this.specsPrefix).exec();
    const watcher = client.watch().prefix(this.specsPrefix).watcher();
    const timeoutMs = this.options.requestTimeoutMs ?? 5_000;
    try {
      await new Promise<void>((resolve, reject) => {
        let lastError: Error | undefined;
        const timer = setTimeout(() => reject(new Error(`no watch after ${timeoutMs} ms${lastError ? ` (${lastError.message})` : ''}`)), timeoutMs);
        watcher.once('connected', () => { clearTimeout(timer); resolve(); });
        watcher.on('disconnected', (err: Error) => { lastError = err; });
        watcher.once('error', (err: Error) => { clearTimeout(timer); reject(err); });
      });
    } catch (err) {
      await watcher.cancel().catch(() => undefined);
      throw err;
    }
    watcher.removeAllListeners('disconnected');
    watcher.removeAllListeners('error');
    return watcher;
  }

  async compareAndPut(key: string, text: string, expected: ExpectedRevision): Promise<string> {
    const etcdKey = this.etcdKey(key);
    const response = await this.request(`write ${key}`, () => this.compared(etcdKey, expected)
      .then(this.client.put(etcdKey).value(text))
      .else(this.client.get(etcdKey))
      .commit());
    if (!response.succeeded) throw this.conflict(key, expected, response.responses[0]?.response_range.kvs.length ?? 0);
    // The put is the transaction's only write, so the entry's mod revision is the transaction's.
    return String(response.header.revision);
  }

  async delete(key: string, revision: string): Promise<void> {
    const etcdKey = this.etcdKey(key);
    const response = await this.request(`delete ${key}`, () => this.compared(etcdKey, { revision })
      .then(this.client.delete().key(etcdKey))
      .else(this.client.get(etcdKey))
      .commit());
    if (!response.succeeded) throw this.conflict(key, { revision }, response.responses[0]?.response_range.kvs.length ?? 0);
  }

  keyFor(resource: ResourceIdentity): string {
    return specKeyFor(resource);
  }

  /**
   * The etcd client and this store's key prefix, for the other kinds of shared state that live
   * beside the specs (CA material, leases, the fleet view): one connection per replica, each
   * kind under its own sub-prefix of `prefix`.
   */
  get shared(): { readonly client: Etcd3; readonly prefix: string } {
    return { client: this.client, prefix: this.target.prefix };
  }

  /** Closes the connection to etcd; the store cannot be used afterwards. */
  close(): void {
    this.client.close();
  }

  private compared(etcdKey: string, expected: ExpectedRevision): ReturnType<Etcd3['if']> {
    return 'absent' in expected
      ? this.client.if(etcdKey, 'Create', '==', 0)
      : this.client.if(etcdKey, 'Mod', '==', expected.revision);
  }

  private conflict(key: string, expected: ExpectedRevision, found: number): StoreConflictError {
    if ('absent' in expected) return new StoreConflictError(key, 'already exists');
    return new StoreConflictError(key, found === 0 ? 'was removed since it was read' : 'changed since it was read');
  }

  // Same rule as the directory: a key is a spec file name, nothing that could nest or escape.
  private etcdKey(key: string): string {
    if (key.includes('/') || !isSpecFile(key)) throw new Error(`store key ${JSON.stringify(key)} is not a spec file name in ${this.location}`);
    return `${this.specsPrefix}${key}`;
  }

  /** Runs one etcd call; a failure names the store and what was being done. */
  private async request<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw new Error(`etcd store ${this.location}: could not ${what}: ${(err as Error).message}${hintFor((err as Error).message)}`);
    }
  }
}

/** What to check when etcd refused the connection or the credentials (its own words are terse). */
function hintFor(message: string): string {
  if (/certificate|SSL|TLS|handshake/i.test(message)) return ' (TLS to etcd failed: check the CA of the etcd members and the client certificate and key given for etcd)';
  if (/authentication failed|user name is empty|permission denied|invalid auth token/i.test(message)) return ' (etcd refused the credentials: check the etcd user and password file, and its role\'s permissions on the prefix)';
  return '';
}
