// Access keys for the App Mesh API: a JSON file (0600, written atomically) in the state directory
// or named by a flag. SigV4 needs the secret itself to check a signature (an HMAC, not a password
// hash), so the file holds it and is never logged; `meshd api-keys list` shows ids only.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomicSync } from '../util/atomic-file';

export type KeyAccess = 'read-only' | 'read-write';

export interface ApiKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly access: KeyAccess;
  readonly createdAt: string;
  readonly description?: string;
}

interface KeysFile {
  readonly keys: readonly ApiKey[];
}

/** Where the keys live when no flag names a file. */
export function defaultKeysFile(stateDir: string): string {
  return path.join(stateDir, 'api-keys.json');
}

// Base32 like AWS's own ids: upper-case letters and digits 2-7.
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function newAccessKeyId(): string {
  return `MSHD${[...randomBytes(16)].map((b) => BASE32[b % 32]).join('')}`;
}

function isKey(value: unknown): value is ApiKey {
  if (typeof value !== 'object' || value === null) return false;
  const key = value as Record<string, unknown>;
  return typeof key.accessKeyId === 'string' && typeof key.secretAccessKey === 'string'
    && (key.access === 'read-only' || key.access === 'read-write') && typeof key.createdAt === 'string';
}

/** The keys in `file`; none when it does not exist. A malformed file is an error naming it. */
export function readKeys(file: string): ApiKey[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON: ${(err as Error).message}`);
  }
  const keys = (parsed as Partial<KeysFile> | null)?.keys;
  if (!Array.isArray(keys)) throw new Error(`${file}: keys: must be a list`);
  const bad = keys.findIndex((key) => !isKey(key));
  if (bad >= 0) throw new Error(`${file}: keys[${bad}]: must have accessKeyId, secretAccessKey, access (read-only or read-write) and createdAt`);
  return keys as ApiKey[];
}

function writeKeys(file: string, keys: readonly ApiKey[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomicSync(file, `${JSON.stringify({ keys }, null, 2)}\n`, 0o600);
}

/** Adds a new key and returns it (the only time its secret is shown). */
export function createKey(file: string, access: KeyAccess, description?: string): ApiKey {
  const key: ApiKey = {
    accessKeyId: newAccessKeyId(),
    secretAccessKey: randomBytes(30).toString('base64'),
    access,
    createdAt: new Date().toISOString(),
    ...(description ? { description } : {}),
  };
  writeKeys(file, [...readKeys(file), key]);
  return key;
}

/** Removes a key; false when there was none with that id. */
export function revokeKey(file: string, accessKeyId: string): boolean {
  const keys = readKeys(file);
  const kept = keys.filter((key) => key.accessKeyId !== accessKeyId);
  if (kept.length === keys.length) return false;
  writeKeys(file, kept);
  return true;
}

/**
 * The keys a running server checks against: re-read when the file changes (by modification time
 * and size), so `api-keys create` and `revoke` take effect without a restart. A file that cannot be
 * read keeps the last good keys (and says so once).
 */
export class KeyRing {
  private keys = new Map<string, ApiKey>();
  private stamp = '';

  constructor(readonly file: string, private readonly onError: (message: string) => void = () => undefined) {
    this.refresh();
  }

  get(accessKeyId: string): ApiKey | undefined {
    this.refresh();
    return this.keys.get(accessKeyId);
  }

  private refresh(): void {
    let stamp: string;
    try {
      const stat = fs.statSync(this.file);
      stamp = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    } catch {
      stamp = 'absent';
    }
    if (stamp === this.stamp) return;
    try {
      this.keys = new Map(readKeys(this.file).map((key) => [key.accessKeyId, key]));
      this.stamp = stamp;
    } catch (err) {
      this.stamp = stamp;
      this.onError(`${(err as Error).message}; keeping the keys read before`);
    }
  }
}
