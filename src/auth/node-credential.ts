// Claiming a node id is not proof. meshd gives every mesh endpoint a credential: an HMAC-SHA256
// of the endpoint's canonical key under a secret kept in the state directory. The bootstrap meshd
// generates carries it (Envoy: gRPC initial metadata on the ADS and SDS clusters; proxyless gRPC,
// whose bootstrap cannot add call metadata: node.metadata). Every stream's first request is
// checked; without a valid credential the stream ends with PERMISSION_DENIED before anything is sent.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { parseNodeId, NodeIdError, type MeshEndpointId } from '../identity/endpoint-id';
import type { NodeIdentifier } from '../server/xds-stream';
import { StatusError } from '../xds/status-error';
import { writeFileAtomicSync } from '../util/atomic-file';
import { narrowModeSync } from '../util/file-mode';
import { logger, type Logger } from '../log';
import { StateDirectoryError } from '../pki/state-error';
import type { NodeInfo } from '../xds/wire';

/** gRPC initial-metadata header carrying the credential. */
export const CREDENTIAL_HEADER = 'x-meshd-node-token';
/** node.metadata field carrying the credential, for clients that cannot set call metadata. */
export const CREDENTIAL_NODE_METADATA_KEY = CREDENTIAL_HEADER;

const TOKEN_PREFIX = 'mdt1.';
/** The signing key's file in the state directory. */
export const NODE_CREDENTIAL_KEY_FILE = 'node-credential.key';

export function nodeCredentialKeyPath(stateDir: string): string {
  return path.join(stateDir, NODE_CREDENTIAL_KEY_FILE);
}

export class NodeCredentials {
  private constructor(private readonly key: Buffer) {}

  /**
   * Loads the signing key from `<stateDir>/node-credential.key`, narrowing a mode wider than 0600
   * (with a warning). A missing or damaged key is a StateDirectoryError naming the file.
   */
  static load(stateDir: string, log: Logger = logger('node-credential')): NodeCredentials {
    const keyPath = nodeCredentialKeyPath(stateDir);
    let text: string;
    try {
      text = fs.readFileSync(keyPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StateDirectoryError(keyPath, `${keyPath}: no node credential key`);
      throw new Error(`${keyPath}: ${(err as Error).message}`);
    }
    const key = Buffer.from(text.trim(), 'base64');
    if (key.length < 32) throw new StateDirectoryError(keyPath, `${keyPath} holds ${key.length} bytes; expected at least 32`);
    narrowModeSync(keyPath, 0o600, log, 'node credential key file');
    return new NodeCredentials(key);
  }

  /** Writes a new random signing key (0600, atomically), replacing any there. */
  static create(stateDir: string): NodeCredentials {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    writeFileAtomicSync(nodeCredentialKeyPath(stateDir), `${key.toString('base64')}\n`, 0o600);
    return new NodeCredentials(key);
  }

  /**
   * Loads the key, or creates it when there is none. For tests and embedding in a directory the
   * caller owns: `meshd serve` goes through openStateDirectory, which refuses to make a new key
   * beside an existing CA (that would invalidate every bootstrap printed so far).
   */
  static loadOrCreate(stateDir: string): NodeCredentials {
    if (!fs.existsSync(nodeCredentialKeyPath(stateDir))) return NodeCredentials.create(stateDir);
    return NodeCredentials.load(stateDir);
  }

  /** For tests and embedding: a credential authority with a given key. */
  static withKey(key: Buffer): NodeCredentials {
    return new NodeCredentials(Buffer.from(key));
  }

  /** The credential for one mesh endpoint (any spelling of its node id gives the same one). */
  tokenFor(nodeId: string): string {
    const endpoint = parseNodeId(nodeId);
    return TOKEN_PREFIX + this.mac(endpoint.key).toString('base64url');
  }

  verify(endpoint: MeshEndpointId, token: string): boolean {
    if (!token.startsWith(TOKEN_PREFIX)) return false;
    const given = Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url');
    const expected = this.mac(endpoint.key);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** A NodeIdentifier for the stream servers: node id must parse and the credential must match it. */
  identifier(): NodeIdentifier {
    return (node: NodeInfo, metadata: grpc.Metadata): MeshEndpointId => {
      let endpoint: MeshEndpointId;
      try {
        endpoint = parseNodeId(node.id);
      } catch (err) {
        if (err instanceof NodeIdError) throw new StatusError(grpc.status.INVALID_ARGUMENT, err.message);
        throw err;
      }
      const token = presentedToken(node, metadata);
      if (!token) {
        throw new StatusError(grpc.status.PERMISSION_DENIED, `no credential for ${endpoint.key}: send the ${CREDENTIAL_HEADER} metadata from the bootstrap meshd generated for this node`);
      }
      if (!this.verify(endpoint, token)) {
        throw new StatusError(grpc.status.PERMISSION_DENIED, `the credential presented is not valid for ${endpoint.key}`);
      }
      return endpoint;
    };
  }

  private mac(endpointKey: string): Buffer {
    return createHmac('sha256', this.key).update(`meshd-node-credential-v1\u0000${endpointKey}`).digest();
  }
}

function presentedToken(node: NodeInfo, metadata: grpc.Metadata): string | undefined {
  const fromHeader = metadata.get(CREDENTIAL_HEADER)[0];
  if (typeof fromHeader === 'string' && fromHeader) return fromHeader;
  const fromNode = node.metadata?.[CREDENTIAL_NODE_METADATA_KEY];
  return typeof fromNode === 'string' && fromNode ? fromNode : undefined;
}
