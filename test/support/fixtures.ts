// Small Envoy resources for protocol tests, and a real meshd xDS server on loopback TCP and a
// Unix socket, with its snapshot cache.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SnapshotCache } from '../../src/cache/snapshot-cache';
import { Snapshot, type ResourceInput } from '../../src/cache/snapshot';
import { TypeUrl } from '../../src/xds/type-urls';
import { ADS, CDS, EDS, LDS, RDS } from '../../src/server/services';
import type { NodeIdentifier } from '../../src/server/xds-stream';
import { trustNodeIdClaims } from '../../src/auth/node-id-claims';
import { XdsServer } from '../../src/server/xds-server';
import type { StreamObserver } from '../../src/server/observer';
import { XdsTestClient } from './xds-client';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

export function edsCluster(name: string, extra: Record<string, unknown> = {}): ResourceInput {
  return {
    name,
    message: {
      name,
      type: 'EDS',
      connectTimeout: { seconds: 1 },
      edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' } },
      ...extra,
    },
  };
}

export function loadAssignment(clusterName: string, endpoints: { address: string; port: number }[]): ResourceInput {
  return {
    name: clusterName,
    message: {
      clusterName,
      endpoints: [{
        lbEndpoints: endpoints.map((e) => ({ endpoint: { address: { socketAddress: { address: e.address, portValue: e.port } } } })),
      }],
    },
  };
}

export function httpListener(name: string, port: number, routeName: string): ResourceInput {
  return {
    name,
    message: {
      name,
      address: { socketAddress: { address: '0.0.0.0', portValue: port } },
      filterChains: [{
        filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typedConfig: {
            '@type': HCM,
            statPrefix: name,
            rds: { routeConfigName: routeName, configSource: { ads: {}, resourceApiVersion: 'V3' } },
            httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER } }],
          },
        }],
      }],
    },
  };
}

export function routeConfig(name: string, clusters: { name: string; weight: number }[], domain = '*'): ResourceInput {
  return {
    name,
    message: {
      name,
      virtualHosts: [{
        name: `${name}-vh`,
        domains: [domain],
        routes: [{
          match: { prefix: '' },
          route: clusters.length === 1
            ? { cluster: clusters[0]!.name }
            : { weightedClusters: { clusters: clusters.map((c) => ({ name: c.name, weight: { value: c.weight } })) } },
        }],
      }],
    },
  };
}

/** A consistent four-type snapshot: listener -> route -> clusters -> endpoints. */
export function basicSnapshot(opts: { clusters?: string[]; port?: number; endpointPort?: number } = {}): Snapshot {
  const clusters = opts.clusters ?? ['backend'];
  return Snapshot.fromResources({
    [TypeUrl.Cluster]: clusters.map((c) => edsCluster(c)),
    [TypeUrl.ClusterLoadAssignment]: clusters.map((c) => loadAssignment(c, [{ address: '127.0.0.1', port: opts.endpointPort ?? 9000 }])),
    [TypeUrl.Listener]: [httpListener('ingress', opts.port ?? 15000, 'routes')],
    [TypeUrl.RouteConfiguration]: [routeConfig('routes', clusters.map((c) => ({ name: c, weight: 1 })))],
  });
}

export interface TestServer {
  cache: SnapshotCache;
  server: XdsServer;
  tcpTarget: string;
  unixTarget: string;
  socketPath: string;
  close(): Promise<void>;
}

export async function startTestServer(opts: { identify?: NodeIdentifier; observer?: StreamObserver } = {}): Promise<TestServer> {
  const cache = new SnapshotCache();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-xds-'));
  const socketPath = path.join(dir, 'xds.sock');
  const server = new XdsServer({
    services: [ADS, CDS, EDS, LDS, RDS],
    settings: { watcher: cache, identify: opts.identify ?? trustNodeIdClaims, ...(opts.observer ? { observer: opts.observer } : {}) },
  });
  const tcp = await server.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  await server.listen({ kind: 'unix', path: socketPath });
  return {
    cache,
    server,
    tcpTarget: `127.0.0.1:${tcp.kind === 'tcp' ? tcp.port : 0}`,
    unixTarget: `unix:${socketPath}`,
    socketPath,
    async close() {
      await server.shutdown(200);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Transport = 'tcp' | 'unix';

/**
 * A fresh server and a client on the given transport for every test of the calling `describe`.
 * The returned object's fields are replaced before each test.
 */
export function useTestServer(transport: Transport): { env: TestServer; client: XdsTestClient } {
  const current = {} as { env: TestServer; client: XdsTestClient };
  beforeEach(async () => {
    current.env = await startTestServer();
    current.client = new XdsTestClient(transport === 'tcp' ? current.env.tcpTarget : current.env.unixTarget);
  });
  afterEach(async () => {
    current.client.close();
    await current.env.close();
  });
  return current;
}
