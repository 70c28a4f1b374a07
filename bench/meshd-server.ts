// The meshd side of the bench, in its own process: meshd's XdsServer serving ADS on loopback
// from a SnapshotCache, driven by the orchestrator over IPC.
//   prepare {generation}  builds (translates, then encodes) generation g; replies with its CDS
//                         version and the shared response body meshd will send, for the baseline
//                         to replay, and the CPU each stage took
//   publish {generation}  sets g's snapshot for every one of the K node keys (this is the push)
//   stats                 own CPU time, RSS and open stream count
// Usage: node dist/bench/meshd-server.js <K>
import { SnapshotCache } from '../src/cache/snapshot-cache';
import { Snapshot } from '../src/cache/snapshot';
import { ADS } from '../src/server/services';
import { trustNodeIdClaims } from '../src/auth/node-id-claims';
import { XdsServer } from '../src/server/xds-server';
import { combineObservers, type StreamObserver } from '../src/server/observer';
import { StreamRegistry } from '../src/admin/stream-registry';
import { MeshdMetrics } from '../src/admin/metrics';
import { ViewChanges } from '../src/admin/view-changes';
import { TypeUrl } from '../src/xds/type-urls';
import { benchNodeId, generationResources } from './generation-snapshot';
import { emitEvent, nowMs, ownStats, serveCommands } from './ipc';

const streamCount = Number(process.argv[2]);
if (!Number.isInteger(streamCount) || streamCount <= 0) throw new Error(`meshd-server: expected K (a positive integer) as the first argument, got "${process.argv[2]}"`);
const nodeKeys = Array.from({ length: streamCount }, (_, i) => benchNodeId(i));

const cache = new SnapshotCache();
let openStreams = 0;
const streamCounter: StreamObserver = {
  streamOpened: () => { openStreams++; },
  streamClosed: () => { openStreams--; },
};
// The observers `meshd serve` runs on every stream (the registry behind /status and CSDS, the
// Prometheus metrics): their work per response and ACK is part of what a push costs.
// (The registry also signals the web view's change feed, as `meshd serve` wires it.)
const registry = new StreamRegistry();
const viewChanges = new ViewChanges();
registry.onChange(() => viewChanges.signal('proxy'));
const observer = combineObservers([registry, new MeshdMetrics(), streamCounter]);
const server = new XdsServer({ services: [ADS], settings: { watcher: cache, identify: trustNodeIdClaims, observer } });
const prepared = new Map<number, Snapshot>();

async function main(): Promise<void> {
  const bound = await server.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  if (bound.kind !== 'tcp') throw new Error('meshd-server: expected a TCP address');

  serveCommands('meshd-server', (command) => {
    switch (command.type) {
      case 'prepare': {
        const generation = Number(command.generation);
        // The stages of a push before any stream is written to: building the resource objects
        // (what translation produces), then encoding them and the response every stream shares
        // (built here as parts; the second stream to ask joins them, once).
        const startCpu = ownStats(openStreams).cpuMs;
        const resources = generationResources(generation);
        const translatedCpu = ownStats(openStreams).cpuMs;
        const snapshot = Snapshot.fromResources(resources);
        const clusters = snapshot.get(TypeUrl.Cluster)!;
        clusters.sotwResponse(null, '*');
        const body = clusters.sotwBody(null, '*');
        const encodedCpu = ownStats(openStreams).cpuMs;
        prepared.set(generation, snapshot);
        return { version: clusters.version, body: body.toString('base64'), translateCpuMs: translatedCpu - startCpu, encodeCpuMs: encodedCpu - translatedCpu };
      }
      case 'publish': {
        const generation = Number(command.generation);
        const snapshot = prepared.get(generation);
        if (!snapshot) throw new Error(`generation ${generation} was not prepared`);
        prepared.delete(generation);
        const before = ownStats(openStreams);
        const startedAt = nowMs();
        for (const key of nodeKeys) cache.setSnapshot(key, snapshot);
        return { cpuMsAtStart: before.cpuMs, syncMs: nowMs() - startedAt };
      }
      case 'stats':
        return ownStats(openStreams);
      default:
        throw new Error(`unknown command "${String(command.type)}"`);
    }
  });
  emitEvent({ type: 'listening', port: bound.port });
}

main().catch((err: unknown) => {
  console.error('meshd-server failed:', err);
  process.exit(1);
});
