// SDS on a Unix domain socket (APPMESH_SDS_SOCKET_PATH): the same stream machinery as ADS, with
// the per-node secret cache as its source, the node credential checked on every stream, and
// per-name entitlement. The socket is 0600 in a directory only its owner can enter, unless the
// operator sets a mode for a shared group.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SDS } from '../server/services';
import { XdsServer } from '../server/xds-server';
import type { NodeIdentifier } from '../server/xds-stream';
import type { StreamObserver } from '../server/observer';
import type { SecretCache } from './secret-cache';

export interface SdsServerOptions {
  socketPath: string;
  secrets: SecretCache;
  identify: NodeIdentifier;
  observer?: StreamObserver;
  /** Socket file mode (default 0o600); e.g. 0o660 for a group shared with the Envoy user. */
  socketMode?: number;
  /** Mode for the socket's directory when meshd creates it (default 0o700; 0o750 with a group mode). */
  directoryMode?: number;
}

/** The SDS socket path: `--sds-socket`, else APPMESH_SDS_SOCKET_PATH, else `<state-dir>/sds.sock`. */
export function resolveSdsSocketPath(explicit: string | undefined, stateDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(explicit || env.APPMESH_SDS_SOCKET_PATH || path.join(stateDir, 'sds.sock'));
}

export async function startSdsServer(options: SdsServerOptions): Promise<XdsServer> {
  const dir = path.dirname(options.socketPath);
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: options.directoryMode ?? 0o700 });
  const server = new XdsServer({
    services: [SDS],
    settings: {
      watcher: options.secrets,
      identify: options.identify,
      refusedNames: options.secrets.refusedNames,
      ...(options.observer ? { observer: options.observer } : {}),
    },
    socketMode: options.socketMode ?? 0o600,
  });
  await server.listen({ kind: 'unix', path: options.socketPath });
  return server;
}
