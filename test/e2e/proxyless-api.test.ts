// The App Mesh API end to end: a route's weights shifted with UpdateRoute (the real SDK, signed)
// become a file in the spec directory, the running meshd applies it, and a grpc-js-xds client's
// RPCs move to the new version within a second, without a failed RPC on the way. And a migration
// to TLS done through the API in the order of the seed document (004): a new TLS node, weights
// shifted step by step, the old node deleted once no route uses it; no RPC fails.
import { strict as assert } from 'node:assert';
import {
  AppMeshClient, CreateVirtualNodeCommand, DeleteVirtualNodeCommand, DescribeRouteCommand, UpdateRouteCommand, type RouteSpec,
} from '@aws-sdk/client-app-mesh';
import * as path from 'node:path';
import { createKey, startAppMeshApi, type ApiServer } from '../../src/api';
import { DirectoryStore } from '../../src/store';
import {
  clientNodeSpec, freePort, MESH, MESH_SPEC, ProxylessEnv, serverNodeSpec, spiffeIdOf, until, who,
} from './proxyless-harness';

// The pinned SDK works on Node 20; its notice that later versions will need Node 22 is not a test result.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const SERVICE = 'greeter.demo.local';

function routeSpec(v1: number, v2: number, v2Name = 'greeter-v2'): RouteSpec {
  return { grpcRoute: { match: { serviceName: 'meshd.test.Echo' }, action: { weightedTargets: [{ virtualNode: 'greeter', weight: v1 }, { virtualNode: v2Name, weight: v2 }] } } };
}

/** A plaintext proxyless server node (the state before the migration). */
function plainNodeSpec(name: string, port: number): string {
  return `kind: VirtualNode
meshName: ${MESH}
virtualNodeName: ${name}
spec:
  listeners:
    - portMapping: { port: ${port}, protocol: grpc }
  serviceDiscovery:
    dns: { hostname: 127.0.0.1 }
meshd: { proxyless: true, address: 127.0.0.1 }
`;
}

/** A proxyless client of the service with no client policy: the servers' listeners decide TLS. */
function callerSpec(service: string): string {
  return `kind: VirtualNode
meshName: ${MESH}
virtualNodeName: caller
spec:
  backends:
    - virtualService: { virtualServiceName: ${service} }
meshd: { proxyless: true, address: 127.0.0.1 }
`;
}

function routerSpecs(port: number): string {
  return `kind: VirtualService
meshName: ${MESH}
virtualServiceName: ${SERVICE}
spec:
  provider:
    virtualRouter: { virtualRouterName: greeter-router }
---
kind: VirtualRouter
meshName: ${MESH}
virtualRouterName: greeter-router
spec:
  listeners:
    - portMapping: { port: ${port}, protocol: grpc }
---
kind: Route
meshName: ${MESH}
virtualRouterName: greeter-router
routeName: split
spec: ${JSON.stringify({ grpcRoute: { match: { serviceName: 'meshd.test.Echo' }, action: { weightedTargets: [{ virtualNode: 'greeter', weight: 1 }] } } })}
`;
}

describe('e2e: a route weight shifted through the App Mesh API reaches a proxyless gRPC client', function () {
  this.timeout(60_000);
  let env: ProxylessEnv | undefined;
  let api: ApiServer | undefined;
  let sdk: AppMeshClient | undefined;

  afterEach(async () => {
    sdk?.destroy();
    await api?.close();
    await env?.close();
    [sdk, api, env] = [undefined, undefined, undefined];
  });

  /** meshd on `specs`, the App Mesh API over its spec directory, and a signed SDK client. */
  async function startWithApi(specs: Record<string, string>): Promise<{ env: ProxylessEnv; sdk: AppMeshClient }> {
    env = await ProxylessEnv.start(specs);
    const keysFile = path.join(env.work, 'state', 'api-keys.json');
    const key = createKey(keysFile, 'read-write');
    api = await startAppMeshApi({ host: '127.0.0.1', port: 0, store: new DirectoryStore(env.configDir), keysFile, region: 'us-east-1', account: '111122223333' });
    sdk = new AppMeshClient({ endpoint: api.url, region: 'us-east-1', credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
    return { env, sdk };
  }

  it('moves every RPC to greeter-v2 within a second of UpdateRoute, none failing', async () => {
    const [v1Port, v2Port] = [await freePort(), await freePort()];
    const { env, sdk } = await startWithApi({
      'mesh.yaml': MESH_SPEC,
      'servers.yaml': `${serverNodeSpec('greeter', v1Port, [spiffeIdOf('caller')])}---\n${serverNodeSpec('greeter-v2', v2Port, [spiffeIdOf('caller')])}`,
      'router.yaml': routerSpecs(v1Port),
      'caller.yaml': clientNodeSpec('caller', SERVICE, [spiffeIdOf('greeter'), spiffeIdOf('greeter-v2')]),
    });

    const [v1, v2, caller] = [await env.node('greeter'), await env.node('greeter-v2'), await env.node('caller')];
    await env.server(v1, v1Port);
    await env.server(v2, v2Port);
    const client = env.client(caller, SERVICE);
    for (let i = 0; i < 10; i++) assert.equal((await who(client)).server, 'greeter');

    // A steady stream of RPCs across the change: every one must succeed.
    const failures: string[] = [];
    let running = true;
    const load = (async () => {
      while (running) await who(client).catch((err: Error) => failures.push(err.message));
    })();

    const updated = await sdk.send(new UpdateRouteCommand({ meshName: MESH, virtualRouterName: 'greeter-router', routeName: 'split', spec: routeSpec(0, 100) }));
    const acceptedAt = Date.now();
    assert.equal(updated.route!.metadata!.version, 2);
    // Within a second of the API's answer, RPCs go to greeter-v2 (several in a row: not a stray one).
    let streak = 0;
    await until('RPCs move to greeter-v2', async () => {
      streak = (await who(client)).server === 'greeter-v2' ? streak + 1 : 0;
      return streak >= 5 ? true : undefined;
    }, 1000);
    const movedWithinMs = Date.now() - acceptedAt;
    running = false;
    await load;
    for (let i = 0; i < 20; i++) assert.equal((await who(client)).server, 'greeter-v2');
    assert.deepEqual(failures, [], 'no RPC failed during the shift');
    assert.ok(movedWithinMs < 1000, `moved after ${movedWithinMs} ms`);
    const described = await sdk.send(new DescribeRouteCommand({ meshName: MESH, virtualRouterName: 'greeter-router', routeName: 'split' }));
    assert.deepEqual(described.route!.spec, routeSpec(0, 100));
  });
  it("migrates to TLS step by step through the API in the seed document's order, never dropping an RPC", async () => {
    const [plainPort, tlsPort] = [await freePort(), await freePort()];
    const { env, sdk } = await startWithApi({
      'mesh.yaml': MESH_SPEC,
      'greeter.yaml': plainNodeSpec('greeter', plainPort),
      'router.yaml': routerSpecs(plainPort),
      'caller.yaml': callerSpec(SERVICE),
    });
    const [plain, caller] = [await env.node('greeter'), await env.node('caller')];
    await env.server(plain, plainPort);
    const client = env.client(caller, SERVICE);
    assert.equal((await who(client)).server, 'greeter');

    const failures: string[] = [];
    const seen = new Set<string>();
    let running = true;
    const load = (async () => {
      while (running) await who(client).then((answer) => seen.add(answer.server), (err: Error) => failures.push(err.message));
    })();

    // 1. A new virtual node for the same service, TLS STRICT with a certificate (the seed's create-virtual-node).
    await sdk.send(new CreateVirtualNodeCommand({
      meshName: MESH, virtualNodeName: 'greeter-tls',
      spec: {
        listeners: [{ portMapping: { port: tlsPort, protocol: 'grpc' }, tls: { mode: 'STRICT', certificate: { acm: { certificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/greeter-tls' } } } }],
        serviceDiscovery: { dns: { hostname: '127.0.0.1' } },
      },
      tags: [{ key: 'meshd:proxyless', value: 'true' }, { key: 'meshd:address', value: '127.0.0.1' }],
    }));
    const tls = await until('greeter-tls is in the applied mesh', () => (env.meshd.currentModel?.endpoints[`mesh/${MESH}/virtualNode/greeter-tls`] ? true : undefined), 5000)
      .then(() => env.node('greeter-tls'));
    await env.server(tls, tlsPort);
    // 2. Shift traffic gradually with the route's weights.
    for (const [v1, v2] of [[90, 10], [50, 50], [0, 100]] as const) {
      await sdk.send(new UpdateRouteCommand({ meshName: MESH, virtualRouterName: 'greeter-router', routeName: 'split', spec: routeSpec(v1, v2, 'greeter-tls') }));
      if (v2 > 0) await until(`RPCs reach greeter-tls at ${v1}/${v2}`, () => (seen.has('greeter-tls') ? true : undefined), 5000);
    }
    let streak = 0;
    await until('every RPC goes to greeter-tls', async () => {
      streak = (await who(client)).server === 'greeter-tls' ? streak + 1 : 0;
      return streak >= 10 ? true : undefined;
    }, 5000);
    // 3. The old node is still a route target (weight 0): App Mesh refuses to delete it until the route lets go.
    await assert.rejects(sdk.send(new DeleteVirtualNodeCommand({ meshName: MESH, virtualNodeName: 'greeter' })), { name: 'ResourceInUseException' });
    await sdk.send(new UpdateRouteCommand({
      meshName: MESH, virtualRouterName: 'greeter-router', routeName: 'split',
      spec: { grpcRoute: { match: { serviceName: 'meshd.test.Echo' }, action: { weightedTargets: [{ virtualNode: 'greeter-tls', weight: 1 }] } } },
    }));
    await sdk.send(new DeleteVirtualNodeCommand({ meshName: MESH, virtualNodeName: 'greeter' }));
    await until('the mesh without greeter is applied', () => (env.meshd.currentModel?.endpoints[`mesh/${MESH}/virtualNode/greeter`] ? undefined : true), 5000);
    for (let i = 0; i < 10; i++) assert.equal((await who(client)).server, 'greeter-tls');
    running = false;
    await load;
    assert.deepEqual(failures, [], 'no RPC failed during the migration');
    // greeter-tls is STRICT: an RPC it answered came over TLS.
    assert.ok(seen.has('greeter') && seen.has('greeter-tls'));
  });
});
