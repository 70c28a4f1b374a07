// What an Envoy does with SDS, reduced to what TLS tests need: subscribe to its certificate and
// trust bundle over meshd's SDS socket, ACK every response, and keep the latest material so real
// node:tls servers and clients can use it.
import * as grpc from '@grpc/grpc-js';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { TypeUrl } from '../../src/xds/type-urls';
import { decodeResource, XdsTestClient, type SotwTestStream } from './xds-client';

interface DecodedSecret {
  name: string;
  tlsCertificate?: { certificateChain?: { inlineString?: string }; privateKey?: { inlineString?: string } };
  validationContext?: { trustedCa?: { inlineString?: string } };
}

export interface SdsMaterial {
  certificateChainPem: string;
  privateKeyPem: string;
  trustedCaPem: string;
  serial: string;
}

export class SdsProxy {
  private readonly client: XdsTestClient;
  readonly stream: SotwTestStream;
  material: SdsMaterial | undefined;
  /** Every raw secret name -> count received, to check nothing unrequested arrives. */
  readonly received: DecodedSecret[] = [];
  private readonly waiters: (() => void)[] = [];
  private stopped = false;

  constructor(socketPath: string, readonly nodeId: string, token: string, readonly names = ['default', 'ROOTCA']) {
    this.client = new XdsTestClient(`unix:${socketPath}`);
    const metadata = new grpc.Metadata();
    metadata.set(CREDENTIAL_HEADER, token);
    this.stream = this.client.sotw('sds', metadata);
    this.stream.send({ node: { id: nodeId }, typeUrl: TypeUrl.Secret, resourceNames: names });
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let response;
      try {
        response = await this.stream.next(60_000);
      } catch {
        return;
      }
      const secrets = response.resources.map((r) => decodeResource<DecodedSecret>(r));
      this.received.push(...secrets);
      const cert = secrets.find((s) => s.tlsCertificate);
      const bundle = secrets.find((s) => s.validationContext);
      const chain = cert?.tlsCertificate?.certificateChain?.inlineString ?? this.material?.certificateChainPem;
      const key = cert?.tlsCertificate?.privateKey?.inlineString ?? this.material?.privateKeyPem;
      const ca = bundle?.validationContext?.trustedCa?.inlineString ?? this.material?.trustedCaPem;
      if (chain && key && ca) {
        this.material = { certificateChainPem: chain, privateKeyPem: key, trustedCaPem: ca, serial: new X509Certificate(chain).serialNumber.toLowerCase() };
      }
      this.stream.ack(response, this.names);
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Resolves once material satisfying the predicate is held. */
  async until(predicate: (m: SdsMaterial) => boolean, timeoutMs = 10_000): Promise<SdsMaterial> {
    const deadline = Date.now() + timeoutMs;
    while (!this.material || !predicate(this.material)) {
      if (Date.now() > deadline) throw new Error(`${this.nodeId}: SDS material did not arrive within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.material;
  }

  secureContext(): tls.SecureContext {
    const m = this.material!;
    return tls.createSecureContext({ cert: m.certificateChainPem, key: m.privateKeyPem, ca: m.trustedCaPem });
  }

  close(): void {
    this.stopped = true;
    this.stream.call.cancel();
    this.client.close();
  }
}

/** Whatever holds a proxy's latest SDS material (an SdsProxy, or one that moves between replicas). */
export interface MaterialHolder {
  readonly material: SdsMaterial | undefined;
  secureContext(): tls.SecureContext;
}

/** A mutual-TLS server whose certificate and trust follow an SdsProxy's latest material. */
export async function startMtlsServer(proxy: MaterialHolder): Promise<{ server: tls.Server; port: number; peers: string[] }> {
  const peers: string[] = [];
  const server = tls.createServer({
    requestCert: true,
    rejectUnauthorized: true,
    SNICallback: (_name, cb) => cb(null, proxy.secureContext()),
    ...proxyMaterialOptions(proxy),
  }, (socket) => {
    const peer = socket.getPeerX509Certificate();
    peers.push(peer?.subjectAltName ?? '');
    socket.end(`hello ${peer?.serialNumber ?? ''}`);
  });
  server.on('tlsClientError', () => undefined);
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return { server, port, peers };
}

function proxyMaterialOptions(proxy: MaterialHolder): tls.TlsOptions {
  const m = proxy.material!;
  return { cert: m.certificateChainPem, key: m.privateKeyPem, ca: m.trustedCaPem };
}

/** One mutual-TLS connection: resolves with the server certificate's serial, rejects on failure. */
export function mtlsConnect(port: number, client: { cert: string; key: string; ca: string }, expectedIdentity?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ...client,
      checkServerIdentity: (_host, cert) => {
        if (!expectedIdentity) return undefined;
        const sans = (cert.subjectaltname ?? '').split(', ');
        return sans.includes(`URI:${expectedIdentity}`) || sans.includes(`DNS:${expectedIdentity}`)
          ? undefined
          : new Error(`server certificate does not name ${expectedIdentity} (has ${cert.subjectaltname})`);
      },
    });
    let data = '';
    let serial = '';
    socket.on('secureConnect', () => { serial = (socket.getPeerX509Certificate()?.serialNumber ?? '').toLowerCase(); });
    socket.on('data', (d) => { data += d.toString(); });
    socket.on('end', () => {
      if (data.startsWith('hello')) resolve(serial);
      else reject(new Error('connection closed without a greeting'));
    });
    socket.on('error', reject);
  });
}
