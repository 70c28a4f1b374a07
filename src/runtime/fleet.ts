// This replica's part in the fleet view: it publishes the proxies its stream registry holds
// (coalesced by the FleetRegistry, at most one flush per interval) and follows every replica's
// entries, for /status and CSDS. Started once the listeners are bound, so it registers the
// addresses it really serves; closed first on shutdown, so its entries vanish at once (the lease
// is revoked) instead of lingering until the lease expires.
import type { Etcd3 } from 'etcd3';
import { fleetProxiesOf, fleetStatus } from '../admin/fleet-status';
import type { StreamRegistry } from '../admin/stream-registry';
import type { FleetStatus } from '../admin/types';
import { FleetRegistry, type FleetReplicaInfo } from '../store/fleet-registry';
import { FleetView } from '../store/fleet-view';

/** What `meshd serve --store etcd://…` gives Meshd for the fleet view. */
export interface FleetSettings {
  /** The shared etcd client and the store's key prefix (EtcdStore.shared). */
  client: Etcd3;
  prefix: string;
  replicaName: string;
  leaseTtlSeconds?: number;
  flushIntervalMs?: number;
}

export class FleetMembership {
  private constructor(
    private readonly info: FleetReplicaInfo,
    private readonly registry: StreamRegistry,
    private readonly publisher: FleetRegistry,
    private readonly view: FleetView,
    private readonly unsubscribe: () => void,
  ) {}

  /** Registers this replica and starts following the fleet; rejects when etcd refuses. */
  static async start(settings: FleetSettings, replica: Omit<FleetReplicaInfo, 'name' | 'startedAt'>, registry: StreamRegistry): Promise<FleetMembership> {
    const info: FleetReplicaInfo = { name: settings.replicaName, ...replica, startedAt: new Date().toISOString() };
    const publisher = new FleetRegistry({
      client: settings.client,
      prefix: settings.prefix,
      replica: info,
      proxies: () => fleetProxiesOf(registry.records()),
      ...(settings.leaseTtlSeconds ? { leaseTtlSeconds: settings.leaseTtlSeconds } : {}),
      ...(settings.flushIntervalMs ? { flushIntervalMs: settings.flushIntervalMs } : {}),
    });
    const view = new FleetView(settings.client, settings.prefix);
    const unsubscribe = registry.onChange(() => publisher.changed());
    try {
      await publisher.start();
      await view.start();
    } catch (err) {
      unsubscribe();
      await view.close();
      await publisher.close();
      throw new Error(`could not join the fleet view in etcd as replica ${info.name}: ${(err as Error).message}`);
    }
    return new FleetMembership(info, registry, publisher, view, unsubscribe);
  }

  get replicaName(): string {
    return this.info.name;
  }

  /** The whole fleet: this replica live, the others as last published. */
  status(): FleetStatus {
    return fleetStatus(this.info, fleetProxiesOf(this.registry.records()), this.view.replicas());
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.view.close();
    await this.publisher.close();
  }
}
