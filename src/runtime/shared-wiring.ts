// The parts of a replica that share state through etcd (`serve --store … --store-key-file …`):
// the CA and node-credential key materialized from etcd (shared-state.ts), and the leader that
// finishes rollovers for every replica (rollover-leader.ts). Kept apart from meshd.ts so the
// pipeline wiring stays about the pipeline.
import type { EtcdStore } from '../store';
import type { StateRecovery } from './state-directory';
import { RolloverLeader } from './rollover-leader';
import { SharedState } from './shared-state';

/** What `MeshdOptions.shared` gives. */
export interface SharedOptions {
  /** The store the mesh is read from (its etcd client and prefix are reused). */
  store: EtcdStore;
  /** The key-encryption key sealing private keys in etcd, and its file (named in refusals). */
  storeKey: Buffer;
  storeKeyFile: string;
  /** Lease of the leader election and of each replica's rollover report, in seconds (default 10). */
  leaseTtlSeconds?: number;
  /** How often each replica refreshes its rollover report and the leader re-checks (default 1 s). */
  checkIntervalMs?: number;
}

export interface SharedPartsOptions extends SharedOptions {
  stateDir: string;
  trustDomain: string;
  recovery?: StateRecovery;
  /** How long the leader's rule must hold before it finishes a rollover. */
  graceMs: number;
}

export interface SharedParts {
  state: SharedState;
  leader: RolloverLeader;
  close(): Promise<void>;
}

export async function openSharedParts(options: SharedPartsOptions): Promise<SharedParts> {
  const { client, prefix } = options.store.shared;
  const state = await SharedState.open({
    client, prefix, location: options.store.location, storeKey: options.storeKey, storeKeyFile: options.storeKeyFile,
    stateDir: options.stateDir, trustDomain: options.trustDomain, ...(options.recovery ? { recovery: options.recovery } : {}),
  });
  const leader = new RolloverLeader({
    client, prefix, authority: state.authority, finish: () => state.finishRollover(), graceMs: options.graceMs,
    ...(options.leaseTtlSeconds ? { leaseTtlSeconds: options.leaseTtlSeconds } : {}),
    ...(options.checkIntervalMs ? { checkIntervalMs: options.checkIntervalMs } : {}),
  });
  leader.start();
  return {
    state,
    leader,
    async close() {
      await leader.close();
      await state.close();
    },
  };
}
