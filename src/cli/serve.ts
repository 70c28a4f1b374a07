import * as path from 'node:path';
import type { ApiSettings } from '../api';
import { Meshd } from '../runtime/meshd';
import { resolveSdsSocketPath } from '../sds/sds-server';
import type { StateRecovery } from '../runtime/state-directory';
import { logger } from '../log';
import { bootstrapHint, exposureWarnings } from './serve-hints';
import type { EtcdStore } from '../store/etcd-store';
import { loadStoreKey } from '../store/sealing';
import type { EtcdClientFlags } from './etcd-options';
import { checkReplicaName, defaultReplicaName } from '../store/fleet-registry';

const log = logger('serve');
import type { SpecLimits } from '../spec/limits';

export interface ServeCommandOptions {
  /** The watched spec directory; or `store`. */
  config?: string;
  /** `etcd://HOST:PORT[,…]/PREFIX`: the mesh from etcd, shared by replicas. */
  store?: string;
  /** With `store`: the key-encryption key file sealing the private keys replicas share in etcd. */
  storeKeyFile?: string;
  /** With `store`: seconds of the leader-election lease and each replica's report lease. */
  storeLeaseTtl?: number;
  /** With `store`: etcd client TLS and auth (--etcd-*). */
  etcd?: EtcdClientFlags;
  xds: string[];
  sdsSocket?: string;
  sdsSocketMode?: number;
  stateDir: string;
  trustDomain: string;
  leafTtl: number;
  admin?: string;
  adminPublic?: boolean;
  adminToken?: string;
  /** Deliberate recovery of a damaged state directory (--adopt-ca, --new-ca, --new-node-key). */
  stateRecovery?: StateRecovery;
  specLimits?: SpecLimits;
  /** The App Mesh API, when `--api` is given. */
  api?: ApiSettings;
  /** With --store: this replica's name in the fleet view (default host name and PID). */
  replicaName?: string;
}

/** `meshd serve`: runs until SIGINT/SIGTERM, then shuts down cleanly. */
export async function runServe(opts: ServeCommandOptions): Promise<number> {
  if ((opts.config === undefined) === (opts.store === undefined)) {
    process.stderr.write('meshd serve: give exactly one of --config DIR (a spec directory) or --store etcd://HOST:PORT/PREFIX\n');
    return 2;
  }
  if (opts.store === undefined && Object.values(opts.etcd ?? {}).some((value) => value !== undefined)) {
    process.stderr.write('meshd serve: the --etcd-* flags say how to reach --store etcd://…; without --store they would do nothing\n');
    return 2;
  }
  if ((opts.store === undefined) !== (opts.storeKeyFile === undefined)) {
    process.stderr.write(opts.store === undefined ? 'meshd serve: --store-key-file goes with --store\n'
      : 'meshd serve: --store needs --store-key-file FILE, the key that seals the CA and node-credential keys replicas share in etcd (create it once with `meshd store keygen FILE`)\n');
    return 2;
  }
  const stateDir = path.resolve(opts.stateDir);
  // The key first: a missing or malformed one is refused before anything is opened or written.
  const storeKeyFile = opts.storeKeyFile !== undefined ? path.resolve(opts.storeKeyFile) : undefined;
  const storeKey = storeKeyFile !== undefined ? loadStoreKey(storeKeyFile, log) : undefined;
  let store: EtcdStore | undefined;
  try {
    // The etcd client and store tools are loaded only for --store.
    store = opts.store !== undefined ? (await import('./store')).openStore(opts.store, opts.etcd) : undefined;
  } catch (err) {
    process.stderr.write(`meshd serve: ${(err as Error).message}\n`);
    return 2;
  }
  const replicaName = store ? checkReplicaName(opts.replicaName ?? defaultReplicaName()) : undefined;
  const meshd = await Meshd.start({
    configDir: path.resolve(opts.config ?? '.'),
    ...(store ? { store, shared: { store, storeKey: storeKey!, storeKeyFile: storeKeyFile!, ...(opts.storeLeaseTtl ? { leaseTtlSeconds: opts.storeLeaseTtl } : {}) } } : {}),
    xds: opts.xds,
    sdsSocket: resolveSdsSocketPath(opts.sdsSocket, stateDir),
    stateDir,
    trustDomain: opts.trustDomain,
    leafTtlMs: opts.leafTtl * 1000,
    ...(opts.sdsSocketMode ? { sdsSocketMode: opts.sdsSocketMode } : {}),
    ...(opts.admin ? { admin: opts.admin } : {}),
    ...(opts.adminPublic ? { adminAllowPublic: true } : {}),
    ...(opts.adminToken ? { adminToken: opts.adminToken } : {}),
    ...(opts.stateRecovery ? { stateRecovery: opts.stateRecovery } : {}),
    ...(opts.specLimits ? { specLimits: opts.specLimits } : {}),
    ...(opts.api ? { api: opts.api } : {}),
    ...(store && replicaName ? { fleet: { ...store.shared, replicaName, ...(opts.storeLeaseTtl ? { leaseTtlSeconds: opts.storeLeaseTtl } : {}) } } : {}),
  });
  // Signal handlers first: the ready line below is what supervisors and tests wait for before
  // they may send SIGTERM, and without a handler that would kill the process uncleanly.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`meshd: ${signal}: shutting down\n`);
      meshd.stop().then(() => {
        store?.close();
        // Everything meshd opened is closed; a client library's reconnect timer (etcd's, while
        // etcd is unreachable) must not keep a stopped meshd alive. Unref'd: a clean exit comes first.
        setTimeout(() => {
          process.stderr.write('meshd: stopped; exiting although a connection to the store was still retrying\n');
          process.exit(0);
        }, 3_000).unref();
        resolve(0);
      }, (err: Error) => {
        process.stderr.write(`meshd: shutdown failed: ${err.message}\n`);
        resolve(1);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  const model = meshd.currentModel;
  const endpoints = model ? Object.keys(model.endpoints) : [];
  process.stderr.write(`meshd: serving ${endpoints.length} mesh endpoint(s) from ${store?.location ?? opts.config}; ADS on ${meshd.xdsAddresses.join(', ')}; `
    + `SDS on unix:${resolveSdsSocketPath(opts.sdsSocket, stateDir)}${meshd.adminServer ? `; admin on ${meshd.adminServer.url}` : ''}${meshd.apiServer ? `; App Mesh API on ${meshd.apiServer.url}` : ''}\n`);
  if (replicaName) process.stderr.write(`meshd: in the fleet view as replica ${replicaName} (see meshd status)\n`);
  for (const warning of exposureWarnings({ xds: meshd.xdsAddresses, ...(meshd.adminServer ? { adminUrl: meshd.adminServer.url } : {}), ...(opts.adminToken ? { adminToken: opts.adminToken } : {}) })) log.warn(warning);
  if (endpoints[0]) {
    const hint = bootstrapHint({
      nodeId: endpoints[0], xds: meshd.xdsAddresses[0]!, sdsSocket: resolveSdsSocketPath(opts.sdsSocket, stateDir),
      stateDir: opts.stateDir, script: process.argv[1] ?? 'meshd', cwd: process.cwd(),
    });
    process.stderr.write(`meshd: an Envoy bootstrap for a node: ${hint}\n`);
  }
  return stopped;
}
