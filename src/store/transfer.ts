// Copying entries between a spec directory and a store, one file = one entry under the same
// name: `meshd store import DIR` (GitOps: the reviewed directory goes into the shared store) and
// `meshd store export DIR` (backups, or a directory to diff). Every write is a compare-and-put on
// what was just read, so a concurrent API write is reported as a conflict, never overwritten.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isSpecFile } from '../spec/load';
import { writeFileAtomic } from '../util/atomic-file';
import type { ResourceStore } from './types';

/** What an import changed, by key. */
export interface ImportResult {
  readonly created: readonly string[];
  readonly replaced: readonly string[];
  readonly unchanged: readonly string[];
  /** Entries without a file in the directory, removed with `prune`. */
  readonly removed: readonly string[];
}

/** The spec files directly in `dir` (links followed), by name. */
async function readSpecFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const names = (await fs.readdir(dir)).filter(isSpecFile).sort();
  for (const name of names) {
    const file = path.join(dir, name);
    if (!(await fs.stat(file)).isFile()) continue;
    files.set(name, await fs.readFile(file, 'utf8'));
  }
  return files;
}

/** Puts every spec file of `dir` into `store` (only what differs); with `prune`, removes entries that have no file. */
export async function importDirectory(store: ResourceStore, dir: string, options: { prune?: boolean } = {}): Promise<ImportResult> {
  const files = await readSpecFiles(dir);
  const existing = new Map((await store.readAll()).map((entry) => [entry.key, entry]));
  const created: string[] = [];
  const replaced: string[] = [];
  const unchanged: string[] = [];
  const removed: string[] = [];
  for (const [key, text] of files) {
    const entry = existing.get(key);
    if (entry?.text === text) {
      unchanged.push(key);
    } else if (entry) {
      await store.compareAndPut(key, text, { revision: entry.revision });
      replaced.push(key);
    } else {
      await store.compareAndPut(key, text, { absent: true });
      created.push(key);
    }
  }
  if (options.prune) {
    for (const [key, entry] of existing) {
      if (files.has(key)) continue;
      await store.delete(key, entry.revision);
      removed.push(key);
    }
  }
  return { created, replaced, unchanged, removed };
}

/** Writes every entry of `store` into `dir` (created if missing) as a file of the same name; returns the keys. */
export async function exportDirectory(store: ResourceStore, dir: string): Promise<string[]> {
  const entries = await store.readAll();
  await fs.mkdir(dir, { recursive: true });
  for (const entry of entries) {
    if (entry.key !== path.basename(entry.key) || !isSpecFile(entry.key)) throw new Error(`${store.location}: entry ${JSON.stringify(entry.key)} is not a spec file name; not exported`);
    await writeFileAtomic(path.join(dir, entry.key), entry.text, 0o644);
  }
  return entries.map((entry) => entry.key);
}
