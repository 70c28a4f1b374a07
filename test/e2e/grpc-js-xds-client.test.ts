// The independent check: the gRPC team's own xDS client (@grpc/grpc-js-xds) resolves
// xds:///greeter through meshd's Listener, RouteConfiguration, Cluster and ClusterLoadAssignment
// and makes real RPCs to real grpc-js servers; when meshd moves the endpoints, RPCs follow.
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { Snapshot } from '../../src/cache/snapshot';
import { TypeUrl } from '../../src/xds/type-urls';
import { startTestServer, type TestServer } from '../support/fixtures';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
// grpc-js-xds's documented hook for a per-channel bootstrap, used by its own interop tests.
const BOOTSTRAP_OPTION = 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config';
const WHO = '/meshd.test.Echo/Who';
const raw = (b: Buffer): Buffer => b;

/** A real grpc-js server that answers Who with its own name. */
async function startBackend(name: string): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(
    { Who: { path: WHO, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
    { Who: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from(name)) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, server };
}

function greeterSnapshot(backendPort: number): Snapshot {
  return Snapshot.fromResources({
    [TypeUrl.Listener]: [{
      name: 'greeter',
      message: {
        name: 'greeter',
        apiListener: {
          apiListener: {
            '@type': HCM,
            statPrefix: 'greeter',
            rds: { routeConfigName: 'greeter-routes', configSource: { ads: {}, resourceApiVersion: 'V3' } },
            httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER } }],
          },
        },
      },
    }],
    [TypeUrl.RouteConfiguration]: [{
      name: 'greeter-routes',
      message: {
        name: 'greeter-routes',
        virtualHosts: [{ name: 'greeter', domains: ['greeter'], routes: [{ match: { prefix: '' }, route: { cluster: 'greeter-cluster' } }] }],
      },
    }],
    [TypeUrl.Cluster]: [{
      name: 'greeter-cluster',
      message: { name: 'greeter-cluster', type: 'EDS', edsClusterConfig: { edsConfig: { ads: {}, resourceApiVersion: 'V3' } }, lbPolicy: 'ROUND_ROBIN', connectTimeout: { seconds: 1 } },
    }],
    [TypeUrl.ClusterLoadAssignment]: [{
      name: 'greeter-cluster',
      message: {
        clusterName: 'greeter-cluster',
        endpoints: [{
          locality: { region: 'local', zone: 'a' },
          loadBalancingWeight: { value: 1 },
          lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: backendPort } } } }],
        }],
      },
    }],
  });
}

function who(client: grpc.Client): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(WHO, raw, raw, Buffer.alloc(0), { deadline: Date.now() + 5000 }, (err, value) => (err ? reject(err) : resolve(value!.toString())));
  });
}

async function untilAnswer(client: grpc.Client, expected: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      last = await who(client);
      if (last === expected) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`RPCs did not reach ${expected} within ${timeoutMs} ms (last: ${last})`);
}

describe('e2e: @grpc/grpc-js-xds client resolves through meshd', function () {
  this.timeout(40_000);
  let env: TestServer;
  let one: { port: number; server: grpc.Server };
  let two: { port: number; server: grpc.Server };

  before(() => grpcXds.register());
  beforeEach(async () => {
    env = await startTestServer();
    one = await startBackend('one');
    two = await startBackend('two');
  });
  afterEach(async () => {
    one.server.forceShutdown();
    two.server.forceShutdown();
    await env.close();
  });

  for (const transport of ['tcp', 'unix'] as const) {
    it(`routes RPCs to the endpoints meshd serves, and follows a move to a second server (ADS over ${transport})`, async () => {
      const nodeId = 'mesh/demo/virtualNode/greeter-client';
      env.cache.setSnapshot(nodeId, greeterSnapshot(one.port));
      const bootstrap = {
        xds_servers: [{ server_uri: transport === 'tcp' ? env.tcpTarget : env.unixTarget, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
        node: { id: nodeId, cluster: 'greeter-client', locality: {} },
      };
      const client = new grpc.Client('xds:///greeter', grpc.credentials.createInsecure(), { [BOOTSTRAP_OPTION]: JSON.stringify(bootstrap) });
      try {
        assert.equal(await who(client), 'one');
        env.cache.setSnapshot(nodeId, greeterSnapshot(two.port));
        await untilAnswer(client, 'two');
        for (let i = 0; i < 5; i++) assert.equal(await who(client), 'two');
      } finally {
        client.close();
      }
    });
  }
});
