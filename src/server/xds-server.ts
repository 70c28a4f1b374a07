// One grpc-js server carrying the discovery services, listening on any mix of TCP addresses and
// Unix socket paths. A stale socket file left by a crash is replaced; a live socket or any other
// kind of file at that path is an error, never deleted.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { logger } from '../log';
import { formatXdsAddress, parseXdsAddress, type XdsAddress } from '../xds/address';
import { addDiscoveryService, type DiscoveryService, type StreamSettings } from './services';

const log = logger('xds-server');

export type ListenAddress = XdsAddress;

/** Parses `host:port`, `[v6]:port` or `unix:/path` (the socket path made absolute). */
export function parseListenAddress(text: string): ListenAddress {
  const address = parseXdsAddress(text);
  return address.kind === 'unix' ? { kind: 'unix', path: path.resolve(address.path) } : address;
}

export const formatListenAddress = formatXdsAddress;

/** Removes a socket file nobody listens on; refuses anything else at the path. */
export async function clearStaleSocket(socketPath: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return; // nothing there
  }
  if (!stat.isSocket()) throw new Error(`${socketPath} exists and is not a socket; refusing to replace it`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`${socketPath} is in use by another process`);
  fs.unlinkSync(socketPath);
  log.info({ path: socketPath }, 'removed a stale socket left by an earlier run');
}

export interface ServerOptions {
  services: readonly DiscoveryService[];
  settings: StreamSettings;
  /** Extra registrations (CSDS, ...) on the same server. */
  extraServices?: (server: grpc.Server) => void;
  /** File mode for Unix sockets this server creates (default 0o600). */
  socketMode?: number;
}

export class XdsServer {
  private readonly server: grpc.Server;
  private readonly sockets: string[] = [];
  readonly bound: ListenAddress[] = [];

  constructor(private readonly options: ServerOptions) {
    this.server = new grpc.Server({
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    });
    for (const service of options.services) addDiscoveryService(this.server, service, options.settings);
    options.extraServices?.(this.server);
  }

  /** Binds one address; resolves with what was bound (the real port when 0 was asked). */
  async listen(address: ListenAddress): Promise<ListenAddress> {
    if (address.kind === 'unix') {
      fs.mkdirSync(path.dirname(address.path), { recursive: true, mode: 0o700 });
      await clearStaleSocket(address.path);
    }
    const target = address.kind === 'unix' ? `unix:${address.path}` : formatListenAddress(address);
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, boundPort) => (err ? reject(err) : resolve(boundPort)));
    });
    let bound: ListenAddress = address;
    if (address.kind === 'unix') {
      fs.chmodSync(address.path, this.options.socketMode ?? 0o600);
      this.sockets.push(address.path);
    } else {
      bound = { ...address, port };
    }
    this.bound.push(bound);
    return bound;
  }

  /** Stops accepting, gives open streams a moment to finish, then closes them and removes sockets. */
  async shutdown(graceMs = 2000): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    for (const socketPath of this.sockets) {
      try {
        fs.unlinkSync(socketPath);
      } catch {
        // already gone
      }
    }
  }

  /** Ends every stream now (used when the process must stop quickly). */
  forceShutdown(): void {
    this.server.forceShutdown();
  }
}
