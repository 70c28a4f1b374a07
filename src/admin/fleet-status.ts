// The fleet as /status, CSDS and `meshd status` show it: this replica's own proxies read live from
// its stream registry, every other replica's as it last published them (at most one flush
// interval old), each proxy labelled with the replica serving it.
import type { FleetProxy, FleetReplica, FleetReplicaInfo, FleetTypeState } from '../store/fleet-registry';
import { shortTypeName } from '../xds/type-urls';
import { typeState, type StreamRecord } from './stream-registry';
import type { FleetProxyStatus, FleetStatus } from './types';

/** A NACK message is the proxy's text; the fleet entry keeps only its start. */
const MAX_FLEET_NACK = 200;

/** The proxies in `records`, one per node id, in the form the fleet registry publishes. */
export function fleetProxiesOf(records: readonly StreamRecord[]): FleetProxy[] {
  const byNode = new Map<string, StreamRecord[]>();
  for (const record of records) {
    let list = byNode.get(record.info.node.id);
    if (!list) byNode.set(record.info.node.id, (list = []));
    list.push(record);
  }
  const proxies: FleetProxy[] = [];
  for (const [nodeId, list] of byNode) {
    // Oldest first, so on a reconnect overlap the newest stream's view of a type wins (as in CSDS).
    list.sort((a, b) => a.info.connectedAt.getTime() - b.info.connectedAt.getTime() || a.info.id - b.info.id);
    const types: Record<string, FleetTypeState> = {};
    for (const record of list) {
      for (const [typeUrl, type] of record.types) {
        const state = typeState(type);
        types[shortTypeName(typeUrl)] = {
          state,
          ...(type.sent ? { sent: type.sent.version } : {}),
          ...(type.acked ? { acked: type.acked.version } : {}),
          ...(state === 'nacked' && type.lastNack ? { nack: type.lastNack.message.slice(0, MAX_FLEET_NACK) } : {}),
        };
      }
    }
    proxies.push({
      nodeId,
      endpoint: list[0]!.info.nodeKey,
      since: list[0]!.info.connectedAt.toISOString(),
      streams: [...new Set(list.map((record) => `${record.info.service}/${record.info.flavor}`))].sort(),
      types,
    });
  }
  return proxies;
}

/** The fleet document: `self` live, the others from the fleet view (this replica's stale copy skipped). */
export function fleetStatus(self: FleetReplicaInfo, selfProxies: readonly FleetProxy[], replicas: readonly FleetReplica[]): FleetStatus {
  const others = replicas.filter((replica) => replica.name !== self.name);
  const all: FleetReplica[] = [{ ...self, proxies: selfProxies }, ...others].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const proxies: FleetProxyStatus[] = all
    .flatMap((replica) => replica.proxies.map((proxy) => ({ ...proxy, replica: replica.name })))
    .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0));
  return {
    replica: self.name,
    replicas: all.map(({ proxies: served, ...info }) => ({ ...info, proxies: served.length, self: info.name === self.name })),
    proxies,
  };
}
