// The mesh change path for proxyless clients: a spec change (a second server version behind a
// virtual router, weights 50/50) reaches a grpc-js-xds client through meshd, over mutual TLS,
// and its RPCs split between the two servers.
import { strict as assert } from 'node:assert';
import {
  clientNodeSpec, nodeProvidedServiceSpec, freePort, MESH_SPEC, ProxylessEnv, serverNodeSpec, spiffeIdOf, until, who,
} from './proxyless-harness';

const SERVICE = 'greeter.demo.local';

function routerProvided(port: number): string {
  return `kind: VirtualService
meshName: demo
virtualServiceName: ${SERVICE}
spec:
  provider:
    virtualRouter: { virtualRouterName: greeter-router }
---
kind: VirtualRouter
meshName: demo
virtualRouterName: greeter-router
spec:
  listeners:
    - portMapping: { port: ${port}, protocol: grpc }
---
kind: Route
meshName: demo
virtualRouterName: greeter-router
routeName: split
spec:
  grpcRoute:
    match: { serviceName: meshd.test.Echo }
    action:
      weightedTargets:
        - { virtualNode: greeter, weight: 50 }
        - { virtualNode: greeter-v2, weight: 50 }
`;
}

describe('e2e: a mesh change reaches a proxyless gRPC client', function () {
  this.timeout(60_000);
  let env: ProxylessEnv | undefined;

  after(async () => {
    await env?.close();
  });

  it('splits RPCs 50/50 between two versions once a router is put in front of the service', async () => {
    const [v1Port, v2Port] = [await freePort(), await freePort()];
    const servers = `${serverNodeSpec('greeter', v1Port, [spiffeIdOf('caller')])}---\n${serverNodeSpec('greeter-v2', v2Port, [spiffeIdOf('caller')])}`;
    env = await ProxylessEnv.start({
      'mesh.yaml': MESH_SPEC,
      'servers.yaml': servers,
      'service.yaml': nodeProvidedServiceSpec(SERVICE, 'greeter'),
      'caller.yaml': clientNodeSpec('caller', SERVICE, [spiffeIdOf('greeter'), spiffeIdOf('greeter-v2')]),
    });
    const [v1, v2, caller] = [await env.node('greeter'), await env.node('greeter-v2'), await env.node('caller')];
    await env.server(v1, v1Port);
    await env.server(v2, v2Port);
    const client = env.client(caller, SERVICE);
    for (let i = 0; i < 20; i++) assert.equal((await who(client)).server, 'greeter', 'before the change only greeter provides the service');

    env.writeSpec('service.yaml', routerProvided(v1Port));
    await until('the router reaches the client (an RPC answered by greeter-v2)', async () => ((await who(client)).server === 'greeter-v2' ? true : undefined));
    const counts = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const answer = await who(client);
      counts.set(answer.server, (counts.get(answer.server) ?? 0) + 1);
    }
    // 50/50 over 200 RPCs: fewer than 50 on either side has a probability below 1e-12.
    assert.deepEqual([...counts.keys()].sort(), ['greeter', 'greeter-v2']);
    for (const [server, count] of counts) assert.ok(count >= 50, `${server} answered ${count} of 200 RPCs`);
  });
});
