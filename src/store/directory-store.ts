// The spec directory as a store: one file per entry, written atomically, so files stay the one
// truth (`git diff` shows every API change, `meshd validate` and the watcher see it as a hand
// edit). Writes are serialized inside this process; a hand edit between a read and a write is
// caught by the revision (a hash of the file's bytes) and refused, never overwritten.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { watch } from 'chokidar';
import { isSpecFile } from '../spec/load';
import { readIfExists, writeFileAtomic } from '../util/atomic-file';
import { revisionOf, specKeyFor } from './keys';
import { StoreConflictError, type ExpectedRevision, type ResourceIdentity, type ResourceStore, type StoreEntry } from './types';

/** Options of `DirectoryStore`. */
export interface DirectoryStoreOptions {
  /** Quiet period after the last file event before `watch` callbacks run (default 50 ms). */
  readonly watchHoldOffMs?: number;
  /** Mode of files it writes (default 0644: specs are not secrets). */
  readonly fileMode?: number;
}

export class DirectoryStore implements ResourceStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly location: string, private readonly options: DirectoryStoreOptions = {}) {}

  async readAll(): Promise<StoreEntry[]> {
    const entries = await fs.readdir(this.location, { withFileTypes: true });
    const names = entries.filter((entry) => entry.isFile() && isSpecFile(entry.name)).map((entry) => entry.name).sort();
    const out: StoreEntry[] = [];
    for (const key of names) {
      const text = await readIfExists(path.join(this.location, key));
      // A file removed between readdir and read is simply not there any more.
      if (text !== undefined) out.push({ key, text, revision: revisionOf(text) });
    }
    return out;
  }

  async watch(onChange: () => void): Promise<() => Promise<void>> {
    const watcher = watch(this.location, { ignoreInitial: true, depth: 0 });
    let timer: NodeJS.Timeout | undefined;
    watcher.on('all', (_event, file) => {
      if (!isSpecFile(path.basename(file))) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, this.options.watchHoldOffMs ?? 50);
    });
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    return async () => {
      clearTimeout(timer);
      await watcher.close();
    };
  }

  compareAndPut(key: string, text: string, expected: ExpectedRevision): Promise<string> {
    return this.serialized(async () => {
      const file = this.fileOf(key);
      await this.check(key, await readIfExists(file), expected);
      await writeFileAtomic(file, text, this.options.fileMode ?? 0o644);
      return revisionOf(text);
    });
  }

  delete(key: string, revision: string): Promise<void> {
    return this.serialized(async () => {
      const file = this.fileOf(key);
      await this.check(key, await readIfExists(file), { revision });
      await fs.rm(file);
    });
  }

  keyFor(resource: ResourceIdentity): string {
    return specKeyFor(resource);
  }

  private fileOf(key: string): string {
    if (key !== path.basename(key) || !isSpecFile(key)) throw new Error(`store key ${JSON.stringify(key)} is not a spec file name in ${this.location}`);
    return path.join(this.location, key);
  }

  private async check(key: string, current: string | undefined, expected: ExpectedRevision): Promise<void> {
    if ('absent' in expected) {
      if (current !== undefined) throw new StoreConflictError(key, 'already exists');
      return;
    }
    if (current === undefined) throw new StoreConflictError(key, 'was removed since it was read');
    if (revisionOf(current) !== expected.revision) throw new StoreConflictError(key, 'changed since it was read');
  }

  // One write at a time inside this process: the read-compare-write of each call cannot interleave.
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
