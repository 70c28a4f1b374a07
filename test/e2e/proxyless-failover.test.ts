// A proxyless gRPC client bootstrapped with two meshd replicas (`meshd bootstrap --grpc --xds A
// --xds B`: one multi-address target) fails over by itself: the gRPC team's own xDS client
// (@grpc/grpc-js-xds) gets its config from the first replica; when that replica stops, the
// client's ADS stream moves to the second, its RPCs keep working, and a mesh change made after
// the stop reaches it (so it really follows the second replica, not only a cached config).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { buildGrpcBootstrap } from '../../src/envoy/grpc-bootstrap';
import { Meshd } from '../../src/runtime/meshd';
import { freePort, until } from './proxyless-harness';

const BOOTSTRAP_OPTION = 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config';
const WHO = '/meshd.test.Echo/Who';
const SERVICE = 'greeter.demo.local';
const CALLER = 'mesh/demo/virtualNode/caller';
const raw = (b: Buffer): Buffer => b;

const serverNode = (name: string, port: number): string => `kind: VirtualNode
meshName: demo
virtualNodeName: ${name}
spec:
  listeners:
    - portMapping: { port: ${port}, protocol: grpc }
  serviceDiscovery:
    dns: { hostname: 127.0.0.1 }
meshd: { proxyless: true, address: 127.0.0.1 }
`;

const providedBy = (node: string): string => `kind: VirtualService
meshName: demo
virtualServiceName: ${SERVICE}
spec:
  provider:
    virtualNode: { virtualNodeName: ${node} }
`;

const SPECS: Record<string, string> = {
  'mesh.yaml': 'kind: Mesh\nmeshName: demo\nspec:\n  egressFilter: { type: DROP_ALL }\n',
  'caller.yaml': `kind: VirtualNode
meshName: demo
virtualNodeName: caller
spec:
  backends:
    - virtualService: { virtualServiceName: ${SERVICE} }
meshd: { proxyless: true, address: 127.0.0.1 }
`,
  'service.yaml': providedBy('greeter'),
};

/** A plain grpc-js server answering Who with its name. */
async function startBackend(name: string, port: number): Promise<grpc.Server> {
  const server = new grpc.Server();
  server.addService(
    { Who: { path: WHO, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
    { Who: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.from(name)) },
  );
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return server;
}

function who(client: grpc.Client): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(WHO, raw, raw, Buffer.alloc(0), { deadline: Date.now() + 5000 }, (err, value) => (err ? reject(err) : resolve(value!.toString())));
  });
}

/** Whether `meshd` has an ADS stream open for the caller. */
const serves = (meshd: Meshd): boolean => meshd.registry.records().some((record) => record.info.node.id === CALLER);

describe('e2e: a proxyless client fails over between meshd replicas', function () {
  this.timeout(60_000);
  let work: string;
  const replicas: Meshd[] = [];
  const servers: grpc.Server[] = [];
  let client: grpc.Client | undefined;

  before(() => grpcXds.register());
  afterEach(async () => {
    client?.close();
    for (const server of servers.splice(0)) server.forceShutdown();
    for (const meshd of replicas.splice(0)) await meshd.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('keeps working from the second replica when the first stops, and follows changes it serves', async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-failover-'));
    const configDir = path.join(work, 'mesh');
    fs.mkdirSync(configDir);
    const [v1Port, v2Port] = [await freePort(), await freePort()];
    for (const [file, text] of Object.entries({ ...SPECS, 'greeter.yaml': serverNode('greeter', v1Port), 'greeter-v2.yaml': serverNode('greeter-v2', v2Port) })) {
      fs.writeFileSync(path.join(configDir, file), text);
    }
    servers.push(await startBackend('greeter', v1Port), await startBackend('greeter-v2', v2Port));
    const start = async (name: string): Promise<Meshd> => {
      const meshd = await Meshd.start({ configDir, xds: ['127.0.0.1:0'], sdsSocket: path.join(work, `${name}.sock`), stateDir: path.join(work, name), trustDomain: 'meshd.local' });
      replicas.push(meshd);
      return meshd;
    };
    const first = await start('first');
    // Both replicas must accept the same node credential: the second starts from a copy of the first's state.
    fs.cpSync(path.join(work, 'first'), path.join(work, 'second'), { recursive: true });
    const second = await start('second');

    const bootstrap = buildGrpcBootstrap({
      nodeId: CALLER,
      xdsAddresses: [first.xdsAddresses[0]!, second.xdsAddresses[0]!],
      credential: { header: CREDENTIAL_HEADER, value: first.credentials.tokenFor(CALLER) },
    });
    assert.match(bootstrap.xds_servers[0]!.server_uri, /^ipv4:127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    client = new grpc.Client(`xds:///${SERVICE}`, grpc.credentials.createInsecure(), { [BOOTSTRAP_OPTION]: JSON.stringify(bootstrap), 'grpc.use_local_subchannel_pool': 1 });
    assert.equal(await who(client), 'greeter');
    assert.ok(serves(first) && !serves(second), 'the client gets its config from the first replica');

    await first.stop();
    replicas.splice(replicas.indexOf(first), 1);
    await until('the client has an ADS stream on the second replica', () => (serves(second) ? true : undefined));
    for (let i = 0; i < 5; i++) assert.equal(await who(client), 'greeter', 'RPCs keep working');

    // A change only the second replica can deliver now.
    fs.writeFileSync(path.join(configDir, 'service.yaml.tmp'), providedBy('greeter-v2'));
    fs.renameSync(path.join(configDir, 'service.yaml.tmp'), path.join(configDir, 'service.yaml'));
    await until('the change reaches the client through the second replica', async () => ((await who(client!)) === 'greeter-v2' ? true : undefined));
  });
});
