// The admin HTTP server of a running meshd: what it reads (status, secrets, readiness) and the
// actions it may take (rotation, CA rollover), wired from the pipeline's parts. Read-only views
// and operations live in operations.ts; this file only connects them.
import { AdminServer } from '../admin/server';
import type { MeshdMetrics } from '../admin/metrics';
import type { StreamRegistry } from '../admin/stream-registry';
import type { SnapshotCache } from '../cache/snapshot-cache';
import { parseXdsAddress } from '../xds/address';
import { actions, meshStatus, readiness, secretStatus, secretViews, type OperationsSources } from './operations';
import type { ViewChanges } from '../admin/view-changes';
import type { FleetStatus } from '../admin/types';
import type { MeshApplier } from './mesh-applier';
import { meshViewSources } from './view-sources';

export interface AdminWiring {
  address: string;
  allowPublic?: boolean;
  adminToken?: string;
  registry: StreamRegistry;
  metrics: MeshdMetrics;
  snapshots: SnapshotCache;
  sources: OperationsSources;
  /** The model being served and the signal that the mesh view changed (for /ui). */
  applier: MeshApplier;
  viewChanges: ViewChanges;
  /** The fleet view, with a shared store. */
  fleet?: () => FleetStatus | undefined;
}

/** Starts the admin server on `address` (HOST:PORT); rejects with the listen error. */
export async function startAdminServer(wiring: AdminWiring): Promise<AdminServer> {
  const parsed = parseXdsAddress(wiring.address);
  if (parsed.kind !== 'tcp') throw new Error(`--admin ${wiring.address}: the admin server listens on HOST:PORT`);
  const { sources } = wiring;
  const server = new AdminServer({
    host: parsed.host,
    port: parsed.port,
    ...(wiring.allowPublic ? { allowPublic: true } : {}),
    ...(wiring.adminToken ? { adminToken: wiring.adminToken } : {}),
    registry: wiring.registry,
    metrics: wiring.metrics,
    snapshots: wiring.snapshots,
    meshStatus: () => meshStatus(sources),
    secretStatus: () => secretStatus(sources),
    secretsFor: (endpoint) => secretViews(sources, endpoint),
    readiness: readiness(sources),
    actions: actions(sources),
    credentialStatus: () => sources.credentials.status(),
    view: { sources: meshViewSources(sources, wiring.applier), changes: wiring.viewChanges },
    ...(wiring.fleet ? { fleet: wiring.fleet } : {}),
  });
  await server.start();
  return server;
}
