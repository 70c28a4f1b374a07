// A pool of leaf key pairs generated ahead on worker threads. Key generation is most of the cost of
// a leaf; here it runs on other cores, in batches (one message per batch, not per key), while the
// main thread signs. A fleet rotation or a reconnect storm then takes keys from the pool instead of
// waiting for each one. The pool starts its workers on the first request (an idle meshd that issues
// nothing runs no worker) and refills itself to `capacity` in the background; the workers do not
// keep the process alive. If a worker cannot start or fails, keys are generated on the libuv thread
// pool instead, as before the pool existed. Keys are held in memory only and never logged.
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { logger } from '../log';
import { generateLeafKeyPair, leafKeyPairFromSec1, SEC1_P256_LENGTH, type LeafKeyPair } from './leaf-keys';

const log = logger('pki-key-pool');

export interface LeafKeyPoolOptions {
  /** Keys kept ready (default 1024). */
  capacity?: number;
  /** Keys a worker generates per message (default 64). */
  batchSize?: number;
  /** Worker threads (default: one fewer than the cores, at least 1, at most 4). */
  workers?: number;
  /** The worker script (default key-worker.js beside this file). */
  workerScript?: string;
}

interface KeyWorker {
  worker: Worker;
  /** Keys asked for and not yet received. */
  requested: number;
}

export class LeafKeyPool {
  readonly #capacity: number;
  readonly #batchSize: number;
  readonly #workerCount: number;
  readonly #workerScript: string;
  #workers: KeyWorker[] | undefined;
  /** Set once a worker failed: from then on keys come from the thread pool. */
  #broken = false;
  /** Batches of SEC1 keys, consumed from the front; `#offset` is the next key's index in the first. */
  readonly #batches: Buffer[] = [];
  #offset = 0;
  #available = 0;
  readonly #waiting: ((sec1: Buffer | undefined) => void)[] = [];

  constructor(options: LeafKeyPoolOptions = {}) {
    this.#capacity = options.capacity ?? 1024;
    this.#batchSize = options.batchSize ?? 64;
    this.#workerCount = options.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1));
    this.#workerScript = options.workerScript ?? path.join(__dirname, 'key-worker.js');
  }

  /** Keys ready to be taken now. */
  get available(): number {
    return this.#available;
  }

  /** A key pair no one else has been given. */
  async take(): Promise<LeafKeyPair> {
    const sec1 = this.#next() ?? (this.#start() ? await this.#wait() : undefined);
    this.#refill();
    if (!sec1) return generateLeafKeyPair();
    const pair = leafKeyPairFromSec1(sec1);
    sec1.fill(0);
    return pair ?? generateLeafKeyPair();
  }

  /** Stops the workers and forgets every pooled key. */
  async close(): Promise<void> {
    const workers = this.#workers ?? [];
    this.#workers = [];
    this.#broken = true;
    for (const batch of this.#batches) batch.fill(0);
    this.#batches.length = 0;
    this.#available = 0;
    for (const waiter of this.#waiting.splice(0)) waiter(undefined);
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  }

  /** Waits for the next key a worker delivers; while anyone waits, the workers keep the process alive. */
  #wait(): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (this.#waiting.length === 1) for (const entry of this.#workers ?? []) entry.worker.ref();
      this.#refill();
    });
  }

  /** Hands keys to whoever waits, first come first served; returns how many bytes of `keys` it used. */
  #serveWaiting(keys: Buffer): number {
    let used = 0;
    while (this.#waiting.length > 0 && used < keys.length) {
      this.#waiting.shift()!(keys.subarray(used, used + SEC1_P256_LENGTH));
      used += SEC1_P256_LENGTH;
    }
    if (this.#waiting.length === 0) for (const entry of this.#workers ?? []) entry.worker.unref();
    return used;
  }

  #next(): Buffer | undefined {
    const batch = this.#batches[0];
    if (!batch) return undefined;
    const sec1 = batch.subarray(this.#offset * SEC1_P256_LENGTH, (this.#offset + 1) * SEC1_P256_LENGTH);
    this.#available--;
    if (++this.#offset * SEC1_P256_LENGTH >= batch.length) {
      this.#batches.shift();
      this.#offset = 0;
    }
    return sec1;
  }

  /** Starts the workers on first use; false when keys must come from elsewhere. */
  #start(): boolean {
    if (this.#broken) return false;
    if (this.#workers) return true;
    try {
      this.#workers = Array.from({ length: this.#workerCount }, () => this.#spawn());
      return true;
    } catch (err) {
      this.#fail(err as Error);
      return false;
    }
  }

  #spawn(): KeyWorker {
    const entry: KeyWorker = { worker: new Worker(this.#workerScript), requested: 0 };
    entry.worker.on('message', (batch: Uint8Array) => this.#receive(entry, Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength)));
    entry.worker.on('error', (err) => this.#fail(err));
    entry.worker.on('exit', (code) => { if (!this.#broken) this.#fail(new Error(`key worker exited with code ${code}`)); });
    // Filling the pool ahead must not keep meshd (or a test, or a CLI command) running; #wait
    // holds a reference while an issuance waits for a key.
    if (this.#waiting.length === 0) entry.worker.unref();
    return entry;
  }

  #receive(entry: KeyWorker, batch: Buffer): void {
    entry.requested = 0;
    // Whoever waits is served first, straight from the batch.
    const used = this.#serveWaiting(batch);
    if (used < batch.length) {
      this.#batches.push(batch.subarray(used));
      this.#available += (batch.length - used) / SEC1_P256_LENGTH;
    }
    this.#refill();
  }

  /** Asks idle workers for what the pool (with what is on the way) lacks of its capacity and the waiting. */
  #refill(): void {
    if (!this.#workers || this.#broken) return;
    for (const entry of this.#workers) {
      const onTheWay = this.#workers.reduce((sum, w) => sum + w.requested, 0);
      const short = this.#capacity + this.#waiting.length - this.#available - onTheWay;
      if (short <= 0) return;
      if (entry.requested > 0) continue;
      entry.requested = Math.min(this.#batchSize, short);
      entry.worker.postMessage(entry.requested);
    }
  }

  /** A worker failed: the pool stops using workers and the waiting takers generate their own. */
  #fail(err: Error): void {
    if (this.#broken) return;
    this.#broken = true;
    log.warn({ err: err.message }, 'leaf key worker failed; generating leaf keys on the libuv thread pool instead');
    for (const entry of this.#workers ?? []) void entry.worker.terminate();
    for (const waiter of this.#waiting.splice(0)) waiter(undefined);
  }
}

let shared: LeafKeyPool | undefined;

/** The process's pool, which every leaf issuance takes its key from. */
export function sharedLeafKeyPool(): LeafKeyPool {
  shared ??= new LeafKeyPool();
  return shared;
}
