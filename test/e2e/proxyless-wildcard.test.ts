// A real gRPC server binds the wildcard address (0.0.0.0:PORT or [::]:PORT), and grpc-js-xds then
// asks for the A36 listener named after that address. meshd must serve it whatever `meshd.address`
// says (or when it says nothing), and also the listener for the endpoint's own address.
import { strict as assert } from 'node:assert';
import { grpcServerListenerName } from '../../src/translate';
import { TypeUrl } from '../../src/xds/type-urls';
import {
  clientNodeSpec, nodeIdOf, nodeProvidedServiceSpec, freePort, MESH_SPEC, ProxylessEnv, serverNodeSpec, spiffeIdOf, who,
} from './proxyless-harness';

describe('e2e: proxyless gRPC servers bound to the wildcard address (grpc-js-xds)', function () {
  this.timeout(60_000);
  let env: ProxylessEnv | undefined;
  const ports = { v4: 0, v6: 0, own: 0 };

  before(async () => {
    ports.v4 = await freePort();
    ports.v6 = await freePort();
    ports.own = await freePort();
    const server = (name: string, port: number, meshd: string): string =>
      `${serverNodeSpec(name, port, [spiffeIdOf(`${name}-caller`)], meshd)}---\n${nodeProvidedServiceSpec(`${name}.demo.local`, name)}---\n`
      + clientNodeSpec(`${name}-caller`, `${name}.demo.local`, [spiffeIdOf(name)]);
    env = await ProxylessEnv.start({
      'mesh.yaml': MESH_SPEC,
      // meshd.address names one address, but the server binds 0.0.0.0 as servers do.
      'v4.yaml': server('wild-v4', ports.v4, '{ proxyless: true, address: 127.0.0.1 }'),
      // No meshd.address at all; the server binds [::].
      'v6.yaml': server('wild-v6', ports.v6, '{ proxyless: true }'),
      // No meshd.address; the server binds its service-discovery address (127.0.0.1).
      'own.yaml': server('own', ports.own, '{ proxyless: true }'),
    });
  });
  after(async () => {
    await env?.close();
  });

  for (const [name, key, host] of [['wild-v4', 'v4', '0.0.0.0'], ['wild-v6', 'v6', '[::]'], ['own', 'own', '127.0.0.1']] as const) {
    it(`an XdsServer bound to ${host} starts serving and answers mTLS RPCs from a mesh client`, async () => {
      const serverNode = await env!.node(name);
      const callerNode = await env!.node(`${name}-caller`);
      await env!.server(serverNode, ports[key], name, host);
      const answer = await who(env!.client(callerNode, `${name}.demo.local`));
      assert.equal(answer.server, name);
      assert.ok(answer.peerSans.includes(`URI:${spiffeIdOf(`${name}-caller`)}`), answer.peerSans);
    });
  }

  it('serves the node the wildcard listeners and the one for its own address', () => {
    const listeners = env!.meshd.snapshotOf(nodeIdOf('wild-v4'))!.get(TypeUrl.Listener)!.resources;
    assert.deepEqual([...listeners.keys()].sort(), [
      grpcServerListenerName('0.0.0.0', ports.v4), grpcServerListenerName('127.0.0.1', ports.v4), grpcServerListenerName('::', ports.v4),
    ].sort());
  });
});
