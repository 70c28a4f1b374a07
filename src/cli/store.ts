// `meshd store import DIR` / `meshd store export DIR`: the mesh specs in a shared store (etcd)
// and a directory, one file per entry. An import is validated whole first: a directory that
// `meshd validate` refuses would be refused by every replica, so it never reaches the store.
import * as path from 'node:path';
import { loadMesh } from '../model/load-mesh';
import { formatError } from '../spec/errors';
import type { SpecLimits } from '../spec/limits';
import { EtcdStore, exportDirectory, importDirectory, parseStoreUrl } from '../store';
import { createStoreKeyFile } from '../store/sealing';

export interface StoreCommandResult {
  exitCode: number;
  output: string;
}

/** Opens the store a `--store etcd://…` names; the caller closes it. */
export function openStore(url: string): EtcdStore {
  return new EtcdStore(parseStoreUrl(url));
}

async function withStore(url: string, work: (store: EtcdStore) => Promise<StoreCommandResult>): Promise<StoreCommandResult> {
  let store: EtcdStore;
  try {
    store = openStore(url);
  } catch (err) {
    return { exitCode: 2, output: (err as Error).message };
  }
  try {
    return await work(store);
  } catch (err) {
    return { exitCode: 1, output: (err as Error).message };
  } finally {
    store.close();
  }
}

/** `meshd store import DIR --store URL [--prune]`. */
export function runStoreImport(dir: string, options: { store: string; prune: boolean; trustDomain: string; limits?: SpecLimits }): Promise<StoreCommandResult> {
  return withStore(options.store, async (store) => {
    const checked = await loadMesh(dir, { trustDomain: options.trustDomain, ...(options.limits ? { limits: options.limits } : {}) });
    if (!checked.ok) {
      return { exitCode: 1, output: [...checked.errors.map(formatError), `${dir}: not imported into ${store.location}: ${checked.errors.length} error(s)`].join('\n') };
    }
    const result = await importDirectory(store, path.resolve(dir), { prune: options.prune });
    const removed = options.prune ? `, ${result.removed.length} removed` : '';
    return {
      exitCode: 0,
      output: `${dir} -> ${store.location}: ${result.created.length} created, ${result.replaced.length} replaced, ${result.unchanged.length} unchanged${removed}`,
    };
  });
}

/** `meshd store export DIR --store URL`. */
export function runStoreExport(dir: string, options: { store: string }): Promise<StoreCommandResult> {
  return withStore(options.store, async (store) => {
    const keys = await exportDirectory(store, path.resolve(dir));
    return { exitCode: 0, output: `${store.location} -> ${dir}: ${keys.length} file(s) written` };
  });
}

/** `meshd store keygen FILE`: a new key-encryption key for `serve --store-key-file`. */
export function runStoreKeygen(file: string): StoreCommandResult {
  try {
    createStoreKeyFile(file);
  } catch (err) {
    return { exitCode: 1, output: (err as Error).message };
  }
  return { exitCode: 0, output: `wrote a new key-encryption key to ${file} (mode 0600); give every replica a copy (serve --store-key-file ${file}) and keep a backup: the CA and node-credential keys in etcd open only with it` };
}
