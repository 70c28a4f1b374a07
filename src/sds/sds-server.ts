// SDS on a Unix domain socket (APPMESH_SDS_SOCKET_PATH): the same stream machinery as ADS, with
// the per-node secret cache as its source, the node credential checked on every stream, streams
// of nodes that are not endpoints of the current mesh refused (NOT_FOUND: no leaf is issued to a
// node id just because its credential is valid), and per-name entitlement. The socket is 0600 in a directory only its owner can enter, unless the
// operator sets a mode for a shared group.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SDS } from '../server/services';
import { XdsServer } from '../server/xds-server';
import * as grpc from '@grpc/grpc-js';
import type { NodeIdentifier } from '../server/xds-stream';
import { StatusError } from '../xds/status-error';
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

/**
 * The node's identity by its credential (`identify`), then refused with NOT_FOUND when it is not an
 * endpoint of the current mesh: a credential outlives the spec that declared its endpoint.
 */
export function identifyMeshEndpoint(identify: NodeIdentifier, secrets: SecretCache): NodeIdentifier {
  return (node, metadata) => {
    const endpoint = identify(node, metadata);
    if (!secrets.serves(endpoint.key)) {
      throw new StatusError(grpc.status.NOT_FOUND,
        `${endpoint.key} is not an endpoint of the current mesh (no valid spec declares it): meshd issues certificates only to the virtual nodes and gateways of its mesh`);
    }
    return endpoint;
  };
}

export async function startSdsServer(options: SdsServerOptions): Promise<XdsServer> {
  const dir = path.dirname(options.socketPath);
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: options.directoryMode ?? 0o700 });
  const server = new XdsServer({
    services: [SDS],
    settings: {
      watcher: options.secrets,
      identify: identifyMeshEndpoint(options.identify, options.secrets),
      refusedNames: options.secrets.refusedNames,
      ...(options.observer ? { observer: options.observer } : {}),
    },
    socketMode: options.socketMode ?? 0o600,
  });
  await server.listen({ kind: 'unix', path: options.socketPath });
  return server;
}
