// What the node credentials of a state directory are, beyond the signing key itself: keys being
// retired (still accepted until a deadline, so proxies can be given new bootstraps without an
// outage) and endpoints whose credential was revoked (each revocation moves the endpoint to a new
// credential generation, so every token printed for it before stops working and a new bootstrap
// carries the next one). The signing key stays in `node-credential.key`, as it always was; the
// rest is `node-credential-state.json` beside it, 0600 like the key, since it holds retiring keys.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../util/atomic-file';
import { StateDirectoryError } from '../pki/state-error';

/** The signing key's file in the state directory. */
export const NODE_CREDENTIAL_KEY_FILE = 'node-credential.key';
/** Retiring keys and revocations, beside the key. */
export const NODE_CREDENTIAL_STATE_FILE = 'node-credential-state.json';

export function nodeCredentialKeyPath(stateDir: string): string {
  return path.join(stateDir, NODE_CREDENTIAL_KEY_FILE);
}

export function nodeCredentialStatePath(stateDir: string): string {
  return path.join(stateDir, NODE_CREDENTIAL_STATE_FILE);
}

export interface RetiringKey {
  readonly key: Buffer;
  /** Tokens made with this key are refused from this time on. */
  readonly acceptedUntil: Date;
}

export interface Revocation {
  /** The endpoint's credential generation now; tokens of earlier generations are refused. */
  readonly generation: number;
  readonly revokedAt: Date;
}

/** Everything that decides which tokens are valid. */
export interface NodeCredentialState {
  readonly current: Buffer;
  readonly retiring: readonly RetiringKey[];
  /** By canonical endpoint key; an endpoint never revoked is at generation 0. */
  readonly revoked: ReadonlyMap<string, Revocation>;
}

/** Where a NodeCredentials keeps its state; the first write must land before memory changes. */
export interface CredentialStateStore {
  save(state: NodeCredentialState): Promise<void>;
}

/** A short, non-secret name for a key (for status and logs): never the key itself. */
export function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update('meshd-node-credential-key-id\u0000').update(key).digest('hex').slice(0, 12);
}

interface StateDocument {
  retiring?: Array<{ key?: unknown; acceptedUntil?: unknown }>;
  revoked?: Record<string, { generation?: unknown; revokedAt?: unknown }>;
}

/** The state document as text (what the directory file, or a shared store, holds). */
export function formatStateDocument(state: NodeCredentialState): string {
  const document = {
    retiring: state.retiring.map((retiring) => ({ key: retiring.key.toString('base64'), acceptedUntil: retiring.acceptedUntil.toISOString() })),
    revoked: Object.fromEntries([...state.revoked].sort(([a], [b]) => a.localeCompare(b))
      .map(([endpoint, revocation]) => [endpoint, { generation: revocation.generation, revokedAt: revocation.revokedAt.toISOString() }])),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Parses the state document; throws naming `where` and the field that is wrong. */
export function parseStateDocument(text: string, where: string): Pick<NodeCredentialState, 'retiring' | 'revoked'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StateDirectoryError(where, `${where}: not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new StateDirectoryError(where, `${where}: expected a JSON object`);
  const document = parsed as StateDocument;
  const retiring: RetiringKey[] = [];
  for (const [index, entry] of (Array.isArray(document.retiring) ? document.retiring : []).entries()) {
    const key = typeof entry.key === 'string' ? Buffer.from(entry.key, 'base64') : Buffer.alloc(0);
    const acceptedUntil = typeof entry.acceptedUntil === 'string' ? new Date(entry.acceptedUntil) : new Date(NaN);
    if (key.length < 32) throw new StateDirectoryError(where, `${where}: retiring[${index}].key must be at least 32 bytes of base64`);
    if (Number.isNaN(acceptedUntil.getTime())) throw new StateDirectoryError(where, `${where}: retiring[${index}].acceptedUntil must be an ISO 8601 time`);
    retiring.push({ key, acceptedUntil });
  }
  const revoked = new Map<string, Revocation>();
  for (const [endpoint, entry] of Object.entries(document.revoked ?? {})) {
    const revokedAt = typeof entry.revokedAt === 'string' ? new Date(entry.revokedAt) : new Date(NaN);
    if (!Number.isInteger(entry.generation) || (entry.generation as number) < 1) throw new StateDirectoryError(where, `${where}: revoked["${endpoint}"].generation must be a positive integer`);
    if (Number.isNaN(revokedAt.getTime())) throw new StateDirectoryError(where, `${where}: revoked["${endpoint}"].revokedAt must be an ISO 8601 time`);
    revoked.set(endpoint, { generation: entry.generation as number, revokedAt });
  }
  return { retiring, revoked };
}

/** Reads the signing key file; a missing or short key is a StateDirectoryError naming the file. */
export function readKeyFile(stateDir: string): Buffer {
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
  return key;
}

/** The state file's retiring keys and revocations; none when there is no file (as before rotation existed). */
export function readStateFile(stateDir: string): Pick<NodeCredentialState, 'retiring' | 'revoked'> {
  const file = nodeCredentialStatePath(stateDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { retiring: [], revoked: new Map() };
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  return parseStateDocument(text, file);
}

/**
 * The state directory as a CredentialStateStore. The state file is written before the key file:
 * a crash between the two leaves the old key both current and retiring, which accepts exactly
 * what was accepted before, never less.
 */
export class DirectoryCredentialStore implements CredentialStateStore {
  constructor(private readonly stateDir: string) {}

  async save(state: NodeCredentialState): Promise<void> {
    this.saveSync(state);
  }

  saveSync(state: NodeCredentialState): void {
    fs.mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    writeFileAtomicSync(nodeCredentialStatePath(this.stateDir), formatStateDocument(state), 0o600);
    const keyFile = nodeCredentialKeyPath(this.stateDir);
    const keyText = `${state.current.toString('base64')}\n`;
    // Rewritten only when it changed, so a revocation does not touch the key file.
    if (!fs.existsSync(keyFile) || fs.readFileSync(keyFile, 'utf8') !== keyText) writeFileAtomicSync(keyFile, keyText, 0o600);
  }
}
