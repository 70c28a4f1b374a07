// Shared by the pki tests: temp dirs, a log capture, and a real mutual-TLS handshake on loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import * as tls from 'node:tls';
import pino from 'pino';
import type { Logger } from '../../src/log';

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `meshd-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A debug-level logger whose lines are kept in `lines`, to assert on what would be logged. */
export function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

export interface TlsSide {
  cert: string;
  key: string;
  ca: string;
}

export interface HandshakeResult {
  /** True when the server accepted the client and the client accepted the server. */
  ok: boolean;
  /** The client certificate's subjectaltname as the server saw it. */
  serverSawPeerSans?: string;
  /** The server certificate's serial as the client saw it. */
  clientSawServerSerial?: string;
  error?: string;
}

/**
 * One mutual-TLS connection on 127.0.0.1: the server requires and verifies a client certificate;
 * success means the server's reply arrived, i.e. both sides verified each other.
 */
export async function mutualTlsHandshake(server: TlsSide, client: TlsSide, options: { servername?: string; checkServerIdentity?: typeof tls.checkServerIdentity } = {}): Promise<HandshakeResult> {
  let serverSawPeerSans: string | undefined;
  const tlsServer = tls.createServer({ cert: server.cert, key: server.key, ca: server.ca, requestCert: true, rejectUnauthorized: true }, (socket) => {
    serverSawPeerSans = socket.getPeerCertificate().subjectaltname;
    socket.end('hello from server');
  });
  tlsServer.on('tlsClientError', () => undefined); // the client's view is what the result reports
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const { port } = tlsServer.address() as AddressInfo;
  try {
    return await new Promise<HandshakeResult>((resolve) => {
      let received = '';
      let error: string | undefined;
      let serial: string | undefined;
      const socket = tls.connect({
        host: '127.0.0.1', port, cert: client.cert, key: client.key, ca: client.ca,
        servername: options.servername ?? 'localhost',
        ...(options.checkServerIdentity ? { checkServerIdentity: options.checkServerIdentity } : {}),
      });
      socket.on('secureConnect', () => { serial = socket.getPeerCertificate().serialNumber?.toLowerCase(); });
      socket.on('data', (chunk: Buffer) => { received += chunk.toString(); });
      socket.on('error', (err) => { error = err.message; });
      socket.on('close', () => {
        const ok = received === 'hello from server' && error === undefined;
        const result: HandshakeResult = { ok };
        if (serverSawPeerSans !== undefined) result.serverSawPeerSans = serverSawPeerSans;
        if (serial !== undefined) result.clientSawServerSerial = serial;
        if (error !== undefined) result.error = error;
        resolve(result);
      });
    });
  } finally {
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  }
}

/** checkServerIdentity that requires a URI SAN equal to `spiffeId`. */
export function expectSpiffeId(spiffeId: string): typeof tls.checkServerIdentity {
  return (_host, cert) => {
    const uris = (cert.subjectaltname ?? '').split(', ').filter((san) => san.startsWith('URI:')).map((san) => san.slice(4));
    return uris.includes(spiffeId) ? undefined : new Error(`server SPIFFE ID is ${uris.join(',') || 'missing'}, expected ${spiffeId}`);
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the first event `name` from `emitter` that satisfies `match`. */
export function nextEvent<T>(emitter: { on(name: string, listener: (value: T) => void): unknown; off(name: string, listener: (value: T) => void): unknown }, name: string, match: (value: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, listener);
      reject(new Error(`no matching "${name}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (value: T): void => {
      if (!match(value)) return;
      clearTimeout(timer);
      emitter.off(name, listener);
      resolve(value);
    };
    emitter.on(name, listener);
  });
}
