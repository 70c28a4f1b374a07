// The App Mesh API end to end: a route's weights shifted with UpdateRoute (the real SDK, signed)
// become a file in the spec directory, the running meshd applies it, and a grpc-js-xds client's
// RPCs move to the new version within a second, without a failed RPC on the way.
import { strict as assert } from 'node:assert';
import { AppMeshClient, DescribeRouteCommand, UpdateRouteCommand, type RouteSpec } from '@aws-sdk/client-app-mesh';
import * as path from 'node:path';
import { createKey, startAppMeshApi, type ApiServer } from '../../src/api';
import { DirectoryStore } from '../../src/store';
import {
  clientNodeSpec, freePort, MESH, MESH_SPEC, ProxylessEnv, serverNodeSpec, spiffeIdOf, until, who,
} from './proxyless-harness';

const SERVICE = 'greeter.demo.local';

function routeSpec(v1: number, v2: number): RouteSpec {
  return { grpcRoute: { match: { serviceName: 'meshd.test.Echo' }, action: { weightedTargets: [{ virtualNode: 'greeter', weight: v1 }, { virtualNode: 'greeter-v2', weight: v2 }] } } };
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
spec: ${JSON.stringify(routeSpec(100, 0))}
`;
}

describe('e2e: a route weight shifted through the App Mesh API reaches a proxyless gRPC client', function () {
  this.timeout(60_000);
  let env: ProxylessEnv | undefined;
  let api: ApiServer | undefined;
  let sdk: AppMeshClient | undefined;

  after(async () => {
    sdk?.destroy();
    await api?.close();
    await env?.close();
  });

  it('moves every RPC to greeter-v2 within a second of UpdateRoute, none failing', async () => {
    const [v1Port, v2Port] = [await freePort(), await freePort()];
    env = await ProxylessEnv.start({
      'mesh.yaml': MESH_SPEC,
      'servers.yaml': `${serverNodeSpec('greeter', v1Port, [spiffeIdOf('caller')])}---\n${serverNodeSpec('greeter-v2', v2Port, [spiffeIdOf('caller')])}`,
      'router.yaml': routerSpecs(v1Port),
      'caller.yaml': clientNodeSpec('caller', SERVICE, [spiffeIdOf('greeter'), spiffeIdOf('greeter-v2')]),
    });
    const keysFile = path.join(env.work, 'state', 'api-keys.json');
    const key = createKey(keysFile, 'read-write');
    api = await startAppMeshApi({ host: '127.0.0.1', port: 0, store: new DirectoryStore(env.configDir), keysFile, region: 'us-east-1', account: '111122223333' });
    sdk = new AppMeshClient({ endpoint: api.url, region: 'us-east-1', credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });

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
});
