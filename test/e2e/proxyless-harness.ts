// Shared parts of the proxyless e2e tests: a real meshd (Meshd.start) on a mesh written to a temp
// directory, and per proxyless node its gRPC bootstrap (buildGrpcBootstrap with the node's
// credential and a file_watcher over a cert dir) and a real SdsFileAgent keeping that dir current.
// Servers are grpc-js-xds XdsServers with XdsServerCredentials; clients are xds:/// channels with
// XdsChannelCredentials. Both fall back to insecure credentials only when xDS sends no TLS.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { SdsFileAgent, type AgentWrite } from '../../src/agent/sds-file-agent';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { buildGrpcBootstrap } from '../../src/envoy/grpc-bootstrap';
import { Meshd } from '../../src/runtime/meshd';

export const TRUST_DOMAIN = 'meshd.local';
export const MESH = 'demo';
// grpc-js-xds's per-channel (and per-server) bootstrap option, used by its own interop tests.
const BOOTSTRAP_OPTION = 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config';
const WHO = '/meshd.test.Echo/Who';
const raw = (b: Buffer): Buffer => b;

export const nodeIdOf = (name: string): string => `mesh/${MESH}/virtualNode/${name}`;
export const spiffeIdOf = (name: string): string => `spiffe://${TRUST_DOMAIN}/${nodeIdOf(name)}`;

/** What a test server answers: its name and the client certificate it saw. */
export interface Answer {
  readonly server: string;
  /** The peer certificate's subjectaltname as Node reports it (`URI:spiffe://...`), or '' without one. */
  readonly peerSans: string;
  readonly peerSerial: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** A proxyless node's runtime side: bootstrap and certificate files kept by meshd's agent. */
export interface ProxylessNode {
  readonly name: string;
  readonly certDir: string;
  /** The gRPC xDS bootstrap JSON. */
  readonly bootstrap: string;
  /** Every write of the agent, oldest first. */
  readonly writes: AgentWrite[];
  readonly agent: SdsFileAgent;
}

export class ProxylessEnv {
  readonly nodes: ProxylessNode[] = [];
  private readonly servers: grpc.Server[] = [];
  private readonly clients: grpc.Client[] = [];

  private constructor(readonly work: string, readonly configDir: string, readonly meshd: Meshd) {}

  /** meshd on `specs` (file name -> YAML), ADS on a TCP port, SDS on a socket under a temp dir. */
  static async start(specs: Record<string, string>): Promise<ProxylessEnv> {
    grpcXds.register();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-proxyless-'));
    const configDir = path.join(work, 'mesh');
    fs.mkdirSync(configDir);
    for (const [file, text] of Object.entries(specs)) fs.writeFileSync(path.join(configDir, file), text);
    const meshd = await Meshd.start({
      configDir,
      xds: ['127.0.0.1:0'],
      sdsSocket: path.join(work, 'sds.sock'),
      stateDir: path.join(work, 'state'),
      trustDomain: TRUST_DOMAIN,
      admin: '127.0.0.1:0',
    });
    return new ProxylessEnv(work, configDir, meshd);
  }

  writeSpec(file: string, text: string): void {
    const target = path.join(this.configDir, file);
    fs.writeFileSync(`${target}.tmp`, text);
    fs.renameSync(`${target}.tmp`, target);
  }

  /** Starts the agent for `name` and waits for its first complete set of files. */
  async node(name: string): Promise<ProxylessNode> {
    const id = nodeIdOf(name);
    const certDir = path.join(this.work, 'certs', name);
    const token = this.meshd.credentials.tokenFor(id);
    const bootstrap = JSON.stringify(buildGrpcBootstrap({
      nodeId: id,
      xdsAddress: this.meshd.xdsAddresses[0]!,
      certDir,
      credential: { header: CREDENTIAL_HEADER, value: token },
      // The smallest interval the bootstrap accepts is any positive duration; 0.1 s keeps tests quick.
      refreshIntervalSeconds: 0.1,
    }));
    const agent = new SdsFileAgent({ nodeId: id, token, sdsSocket: this.meshd.options.sdsSocket, dir: certDir });
    const writes: AgentWrite[] = [];
    agent.on('written', (write) => writes.push(write));
    agent.on('error', () => undefined); // reconnects on its own; a test fails on what it observes
    agent.start();
    const node: ProxylessNode = { name, certDir, bootstrap, writes, agent };
    this.nodes.push(node);
    await until(`${name}: first certificate files`, () => (writes.length > 0 ? true : undefined));
    return node;
  }

  /**
   * An XdsServer for `node` bound to `host`:`port` (127.0.0.1 unless given; `0.0.0.0` or `[::]` for
   * the wildcard a real server binds), answering Who; resolves once it serves.
   */
  async server(node: ProxylessNode, port: number, answerAs = node.name, host = '127.0.0.1'): Promise<grpcXds.XdsServer> {
    const server = new grpcXds.XdsServer({ [BOOTSTRAP_OPTION]: node.bootstrap });
    this.servers.push(server);
    server.addService(
      { Who: { path: WHO, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
      {
        Who: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          const peer = call.getAuthContext().sslPeerCertificate;
          const answer: Answer = { server: answerAs, peerSans: peer?.subjectaltname ?? '', peerSerial: (peer?.serialNumber ?? '').toLowerCase() };
          callback(null, Buffer.from(JSON.stringify(answer)));
        },
      },
    );
    const credentials = new grpcXds.XdsServerCredentials(grpc.ServerCredentials.createInsecure());
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${node.name}: XdsServer on ${host}:${port} not serving within 15 s`)), 15_000);
      server.bindAsync(`${host}:${port}`, credentials, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
    return server;
  }

  /**
   * An xDS client of `node` for `xds:///<service>`. A local subchannel pool makes each client open
   * its own connections (grpc-js would otherwise share them across channels).
   */
  client(node: ProxylessNode, service: string): grpc.Client {
    const client = new grpc.Client(`xds:///${service}`, new grpcXds.XdsChannelCredentials(grpc.credentials.createInsecure()), {
      [BOOTSTRAP_OPTION]: node.bootstrap,
      'grpc.use_local_subchannel_pool': 1,
    });
    this.clients.push(client);
    return client;
  }

  /** A plain grpc-js client straight to an address, with the given credentials. */
  directClient(address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): grpc.Client {
    const client = new grpc.Client(address, credentials, { 'grpc.use_local_subchannel_pool': 1, ...options });
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.close();
    for (const server of this.servers) server.forceShutdown();
    for (const node of this.nodes) node.agent.stop();
    await this.meshd.stop();
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}

export function who(client: grpc.Client, timeoutMs = 5000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(WHO, raw, raw, Buffer.alloc(0), { deadline: Date.now() + timeoutMs }, (err, value) => {
      if (err) reject(err);
      else resolve(JSON.parse(value!.toString()) as Answer);
    });
  });
}

/** The error of an RPC that must fail. */
export async function failure(client: grpc.Client, timeoutMs = 5000): Promise<grpc.ServiceError> {
  try {
    const answer = await who(client, timeoutMs);
    throw new Error(`the RPC succeeded (answered by ${answer.server}) but should have failed`);
  } catch (err) {
    if ((err as grpc.ServiceError).code === undefined) throw err;
    return err as grpc.ServiceError;
  }
}

/**
 * A STRICT mutual-TLS proxyless server node, trusting meshd's CA and accepting `clientSans`.
 * `meshd` is the node's meshd block (by default proxyless with address 127.0.0.1).
 */
export function serverNodeSpec(name: string, port: number, clientSans: readonly string[], meshd = '{ proxyless: true, address: 127.0.0.1 }'): string {
  return `kind: VirtualNode
meshName: ${MESH}
virtualNodeName: ${name}
spec:
  listeners:
    - portMapping: { port: ${port}, protocol: grpc }
      tls:
        mode: STRICT
        certificate:
          acm: { certificateArn: "arn:aws:acm:us-west-2:111122223333:certificate/${name}" }
        validation:
          trust:
            sds: { secretName: "spiffe://${TRUST_DOMAIN}" }
          subjectAlternativeNames:
            match:
              exact: [${clientSans.map((san) => `"${san}"`).join(', ')}]
  serviceDiscovery:
    dns: { hostname: 127.0.0.1 }
meshd: ${meshd}
`;
}

/** A proxyless client node of `service` whose client policy (mTLS, meshd's CA) accepts `serverSans`. */
export function clientNodeSpec(name: string, service: string, serverSans: readonly string[]): string {
  return `kind: VirtualNode
meshName: ${MESH}
virtualNodeName: ${name}
spec:
  backends:
    - virtualService:
        virtualServiceName: ${service}
        clientPolicy:
          tls:
            certificate:
              sds: { secretName: default }
            validation:
              trust:
                sds: { secretName: ROOTCA }
              subjectAlternativeNames:
                match:
                  exact: [${serverSans.map((san) => `"${san}"`).join(', ')}]
meshd: { proxyless: true, address: 127.0.0.1 }
`;
}

export const MESH_SPEC = `kind: Mesh
meshName: ${MESH}
spec:
  egressFilter: { type: DROP_ALL }
`;

/** A virtual service provided directly by one virtual node. */
export function nodeProvidedServiceSpec(service: string, virtualNodeName: string): string {
  return `kind: VirtualService
meshName: demo
virtualServiceName: ${service}
spec:
  provider:
    virtualNode: { virtualNodeName: ${virtualNodeName} }
`;
}
