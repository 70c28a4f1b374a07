// `meshd agent`: for services that can only read certificate files (proxyless gRPC with a
// file_watcher certificate provider, or anything else), keep a node's certificate chain, private
// key and CA bundle current in a directory. It speaks SDS to meshd with the node's credential,
// ACKs every response, and rewrites the files on every rotation: each write atomic, the key
// before the certificate, the key 0600.
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { CREDENTIAL_HEADER } from '../auth/node-credential';
import { messageType } from '../xds/protos';
import { TypeUrl } from '../xds/type-urls';
import { writeFileAtomicSync } from '../util/atomic-file';
import { logger } from '../log';

const log = logger('agent');
const STREAM_SECRETS = '/envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets';
const raw = (b: Buffer): Buffer => b;

export interface AgentFiles {
  certificate: string;
  privateKey: string;
  caCertificate: string;
}

export const DEFAULT_AGENT_FILES: AgentFiles = { certificate: 'cert.pem', privateKey: 'key.pem', caCertificate: 'ca.pem' };

export interface SdsFileAgentOptions {
  nodeId: string;
  token: string;
  /** SDS socket path. */
  sdsSocket: string;
  dir: string;
  files?: Partial<AgentFiles>;
  /** Reconnect delay bounds (ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface AgentWrite {
  serial: string;
  notAfter: Date;
  caCount: number;
}

interface DecodedSecret {
  name?: string;
  tlsCertificate?: { certificateChain?: { inlineString?: string }; privateKey?: { inlineString?: string } };
  validationContext?: { trustedCa?: { inlineString?: string } };
}

export class SdsFileAgent extends EventEmitter<{ written: [AgentWrite]; error: [Error] }> {
  private client: grpc.Client | undefined;
  private call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  private stopped = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private certificatePem: string | undefined;
  private privateKeyPem: string | undefined;
  private caPem: string | undefined;
  private readonly files: AgentFiles;

  constructor(private readonly options: SdsFileAgentOptions) {
    super();
    this.files = { ...DEFAULT_AGENT_FILES, ...options.files };
    this.backoffMs = options.minBackoffMs ?? 250;
  }

  start(): void {
    fs.mkdirSync(this.options.dir, { recursive: true, mode: 0o700 });
    this.client = new grpc.Client(`unix:${this.options.sdsSocket}`, grpc.credentials.createInsecure());
    this.connect();
  }

  private connect(): void {
    if (this.stopped || !this.client) return;
    const metadata = new grpc.Metadata();
    metadata.set(CREDENTIAL_HEADER, this.options.token);
    const call = this.client.makeBidiStreamRequest(STREAM_SECRETS, raw, raw, metadata);
    this.call = call;
    const Request = messageType('envoy.service.discovery.v3.DiscoveryRequest');
    const Response = messageType('envoy.service.discovery.v3.DiscoveryResponse');
    const Secret = messageType('envoy.extensions.transport_sockets.tls.v3.Secret');
    const names = ['default', 'ROOTCA'];
    const send = (fields: object): void => { call.write(Buffer.from(Request.encode(Request.fromObject({ typeUrl: TypeUrl.Secret, resourceNames: names, ...fields })).finish())); };
    send({ node: { id: this.options.nodeId } });
    call.on('data', (bytes: Buffer) => {
      const response = Response.decode(bytes) as unknown as { versionInfo: string; nonce: string; resources: { value: Uint8Array }[] };
      for (const any of response.resources) this.take(Secret.decode(any.value) as unknown as DecodedSecret);
      try {
        this.writeFiles();
        send({ versionInfo: response.versionInfo, responseNonce: response.nonce });
      } catch (err) {
        log.error({ dir: this.options.dir, err: (err as Error).message }, 'could not write certificate files');
        send({ versionInfo: '', responseNonce: response.nonce, errorDetail: { code: 13, message: `agent could not write files: ${(err as Error).message}` } });
      }
      this.backoffMs = this.options.minBackoffMs ?? 250;
    });
    call.on('status', (status: grpc.StatusObject) => {
      if (this.stopped) return;
      if (status.code === grpc.status.PERMISSION_DENIED) {
        const err = new Error(`meshd refused the agent: ${status.details}`);
        log.error({ node: this.options.nodeId }, err.message);
        this.emit('error', err);
        return; // a wrong credential will not become right by retrying
      }
      log.warn({ node: this.options.nodeId, code: grpc.status[status.code], details: status.details, retryInMs: this.backoffMs }, 'SDS stream ended; reconnecting');
      this.reconnectTimer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 10_000);
    });
    call.on('error', () => undefined);
  }

  private take(secret: DecodedSecret): void {
    const chain = secret.tlsCertificate?.certificateChain?.inlineString;
    const key = secret.tlsCertificate?.privateKey?.inlineString;
    if (chain && key) {
      this.certificatePem = chain;
      this.privateKeyPem = key;
    }
    const ca = secret.validationContext?.trustedCa?.inlineString;
    if (ca) this.caPem = ca;
  }

  private writeFiles(): void {
    if (!this.certificatePem || !this.privateKeyPem || !this.caPem) return;
    const file = (name: keyof AgentFiles): string => path.join(this.options.dir, this.files[name]);
    const unchanged = (name: keyof AgentFiles, content: string): boolean => {
      try {
        return fs.readFileSync(file(name), 'utf8') === content;
      } catch {
        return false;
      }
    };
    // Trust first (a new CA must be trusted before certificates from it appear), then the key,
    // then the certificate.
    if (!unchanged('caCertificate', this.caPem)) writeFileAtomicSync(file('caCertificate'), this.caPem, 0o644);
    const certificateChanged = !unchanged('certificate', this.certificatePem);
    if (certificateChanged || !unchanged('privateKey', this.privateKeyPem)) {
      writeFileAtomicSync(file('privateKey'), this.privateKeyPem, 0o600);
      writeFileAtomicSync(file('certificate'), this.certificatePem, 0o644);
    }
    const leaf = new X509Certificate(this.certificatePem);
    const written: AgentWrite = { serial: leaf.serialNumber.toLowerCase(), notAfter: new Date(leaf.validTo), caCount: (this.caPem.match(/BEGIN CERTIFICATE/g) ?? []).length };
    if (certificateChanged) log.info({ node: this.options.nodeId, dir: this.options.dir, serial: written.serial, notAfter: written.notAfter.toISOString() }, 'wrote certificate files');
    this.emit('written', written);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.call?.cancel();
    this.client?.close();
  }
}
