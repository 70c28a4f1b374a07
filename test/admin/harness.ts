// A real meshd slice for admin tests: snapshot cache, an XdsServer serving ADS, the per-type
// services and SDS (TCP and a Unix socket) with CSDS registered beside them, node credentials
// checked on every stream, the stream registry and metrics as its observer, and the admin HTTP
// server on 127.0.0.1:0. A snapshot holding a TLS secret with a real private key and a cluster
// whose SDS config carries the node's credential in initial_metadata, so tests can prove neither
// leaks.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { webcrypto, randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { x509 } from '../../src/pki/x509';
import { createPrivateKey } from 'node:crypto';
import { CREDENTIAL_HEADER, CREDENTIAL_NODE_METADATA_KEY, NodeCredentials } from '../../src/auth/node-credential';
import { SnapshotCache } from '../../src/cache/snapshot-cache';
import { Snapshot } from '../../src/cache/snapshot';
import { combineObservers } from '../../src/server/observer';
import { ADS, CDS, EDS, LDS, RDS, SDS } from '../../src/server/services';
import { XdsServer } from '../../src/server/xds-server';
import { addCsdsService } from '../../src/admin/csds';
import { TypeUrl } from '../../src/xds/type-urls';
import { MeshdMetrics } from '../../src/admin/metrics';
import { StreamRegistry } from '../../src/admin/stream-registry';
import { AdminServer, type AdminServerOptions } from '../../src/admin/server';
import type { MeshStatus, SecretStatus } from '../../src/admin/types';
import { edsCluster, httpListener, loadAssignment, routeConfig } from '../support/fixtures';
import { XdsTestClient, type SotwTestStream } from '../support/xds-client';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const FRONT = 'mesh/demo/virtualNode/front';
export const BACK = 'mesh/demo/virtualNode/back';
export const GATEWAY = 'mesh/demo/virtualGateway/edge';
export const SECRET_NAME = 'meshd/leaf';

export interface TestCertificate {
  certPem: string;
  keyPem: string;
  serial: string;
  sans: string[];
  notAfter: Date;
}

/** A self-signed ECDSA certificate with its PKCS#8 private key. */
export async function makeCertificate(commonName: string): Promise<TestCertificate> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notAfter = new Date(Date.now() + 24 * 3600 * 1000);
  notAfter.setMilliseconds(0);
  const sans = [`spiffe://demo.mesh/${commonName}`, `${commonName}.demo.local`];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter,
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: sans[0]! }, { type: 'dns', value: sans[1]! }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
  return { certPem: cert.toString('pem'), keyPem, serial: cert.serialNumber, sans, notAfter };
}

/** Listener -> route -> cluster -> endpoints, a cluster whose SDS carries the credential, and the TLS secret. */
export function nodeSnapshot(opts: { token: string; certificate: TestCertificate; port?: number }): Snapshot {
  const sdsConfig = {
    apiConfigSource: {
      apiType: 'GRPC',
      transportApiVersion: 'V3',
      grpcServices: [{ envoyGrpc: { clusterName: 'meshd-sds' }, initialMetadata: [{ key: CREDENTIAL_HEADER, value: opts.token }] }],
    },
    resourceApiVersion: 'V3',
  };
  const tlsCluster = edsCluster('secure-backend', {
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: SECRET_NAME, sdsConfig }] },
      },
    },
  });
  return Snapshot.fromResources({
    [TypeUrl.Cluster]: [edsCluster('backend'), tlsCluster],
    [TypeUrl.ClusterLoadAssignment]: [
      loadAssignment('backend', [{ address: '127.0.0.1', port: 9000 }]),
      loadAssignment('secure-backend', [{ address: '127.0.0.1', port: 9443 }]),
    ],
    [TypeUrl.Listener]: [httpListener('ingress', opts.port ?? 15000, 'routes')],
    [TypeUrl.RouteConfiguration]: [routeConfig('routes', [{ name: 'backend', weight: 1 }])],
    [TypeUrl.Secret]: [{
      name: SECRET_NAME,
      message: { name: SECRET_NAME, tlsCertificate: { certificateChain: { inlineString: opts.certificate.certPem }, privateKey: { inlineString: opts.certificate.keyPem } } },
    }],
  });
}

export interface Harness {
  cache: SnapshotCache;
  credentials: NodeCredentials;
  registry: StreamRegistry;
  metrics: MeshdMetrics;
  xds: XdsServer;
  admin: AdminServer;
  adminUrl: string;
  tcpTarget: string;
  unixTarget: string;
  certificate: TestCertificate;
  mesh: MeshStatus;
  /** Every credential handed out, to search responses for. */
  tokens(): string[];
  /** A client on TCP or the Unix socket; closed by close(). */
  client(transport?: 'tcp' | 'unix'): XdsTestClient;
  /** Opens an ADS (or per-type) stream for a node with its credential in metadata. */
  stream(nodeId: string, opts?: { transport?: 'tcp' | 'unix'; service?: 'ads' | 'sds' | 'cds'; userAgentName?: string }): SotwTestStream;
  close(): Promise<void>;
}

export async function startHarness(adminOptions: Partial<AdminServerOptions> = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-admin-'));
  const cache = new SnapshotCache();
  const credentials = NodeCredentials.withKey(randomBytes(32));
  const registry = new StreamRegistry();
  const metrics = new MeshdMetrics();
  const certificate = await makeCertificate('front');
  for (const node of [FRONT, BACK, GATEWAY]) cache.setSnapshot(node, nodeSnapshot({ token: credentials.tokenFor(node), certificate }));
  metrics.setCertificateExpirySource(() => certificate.notAfter);

  const xds = new XdsServer({
    services: [ADS, CDS, EDS, LDS, RDS, SDS],
    settings: { watcher: cache, identify: metrics.countingRefusals(credentials.identifier()), observer: combineObservers([registry, metrics]) },
    extraServices: (server) => addCsdsService(server, { registry, snapshots: cache }),
  });
  const tcp = await xds.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 });
  const socketPath = path.join(dir, 'xds.sock');
  await xds.listen({ kind: 'unix', path: socketPath });

  const mesh: MeshStatus = { revision: 'rev-1', appliedAt: new Date().toISOString() };
  const secretStatus = (): SecretStatus[] => [{
    name: SECRET_NAME,
    kind: 'certificate',
    version: cache.getSnapshot(FRONT)?.get(TypeUrl.Secret)?.version ?? '',
    serial: certificate.serial,
    sans: certificate.sans,
    notAfter: certificate.notAfter.toISOString(),
    holders: registry.ackedVersions(TypeUrl.Secret).map((h) => ({ nodeId: h.nodeId, version: h.version })),
  }];
  const admin = new AdminServer({
    registry,
    metrics,
    snapshots: cache,
    meshStatus: () => mesh,
    secretStatus,
    secretsFor: () => [{ name: SECRET_NAME, version: secretStatus()[0]!.version, certificateChainPem: certificate.certPem }],
    ...adminOptions,
  });
  await admin.start();

  const clients: XdsTestClient[] = [];
  const harness: Harness = {
    cache, credentials, registry, metrics, xds, admin, certificate, mesh,
    adminUrl: admin.url,
    tcpTarget: `127.0.0.1:${tcp.kind === 'tcp' ? tcp.port : 0}`,
    unixTarget: `unix:${socketPath}`,
    tokens: () => [FRONT, BACK, GATEWAY].map((n) => credentials.tokenFor(n)),
    client(transport = 'tcp') {
      const client = new XdsTestClient(transport === 'tcp' ? harness.tcpTarget : harness.unixTarget);
      clients.push(client);
      return client;
    },
    stream(nodeId, opts = {}) {
      const client = harness.client(opts.transport ?? 'tcp');
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, credentials.tokenFor(nodeId));
      const stream = client.sotw(opts.service ?? 'ads', metadata);
      const node = { id: nodeId, cluster: 'demo', ...(opts.userAgentName ? { userAgentName: opts.userAgentName } : {}) };
      stream.send({ node: node as { id: string }, typeUrl: opts.service === 'sds' ? TypeUrl.Secret : TypeUrl.Cluster });
      return stream;
    },
    async close() {
      for (const client of clients) client.close();
      await admin.close();
      await xds.shutdown(200);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** A proxyless-style node: credential in node.metadata, gRPC user agent. */
export function proxylessNode(nodeId: string, token: string): { id: string } {
  return { id: nodeId, userAgentName: 'grpc-node-js', metadata: { fields: { [CREDENTIAL_NODE_METADATA_KEY]: { stringValue: token } } } } as unknown as { id: string };
}

/** GET (or another method) on the admin server; body as text. */
export async function http(harness: Harness, pathAndQuery: string, init: RequestInit = {}): Promise<{ status: number; body: string; contentType: string }> {
  const response = await fetch(`${harness.adminUrl}${pathAndQuery}`, init);
  return { status: response.status, body: await response.text(), contentType: response.headers.get('content-type') ?? '' };
}

/** Waits until a condition holds (observer calls follow the wire, so tests poll what they read). */
export async function until<T>(read: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
