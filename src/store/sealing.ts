// Private keys that replicas share through etcd are stored there only sealed: AES-256-GCM under a
// key-encryption key that every replica is given in a file (`--store-key-file`), never in etcd.
// Each seal has a fresh random nonce, and the etcd key name it is stored under is authenticated
// with it (GCM associated data), so a sealed blob copied to another etcd key does not open. A wrong
// key-encryption key shows as a GCM authentication failure, which callers turn into a refusal
// naming the key file.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { Logger } from '../log';
import { narrowModeSync } from '../util/file-mode';

/** Bytes of a key-encryption key (AES-256). */
export const STORE_KEY_BYTES = 32;
/** Marks a sealed value (and its format version); the rest is base64 of nonce, ciphertext, tag. */
const SEALED_PREFIX = 'meshd-sealed-v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A key-encryption key file that is missing, unreadable or not a key. */
export class StoreKeyError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'StoreKeyError';
  }
}

/** A sealed value that does not open: wrong key, moved to another etcd key, or damaged. */
export class SealError extends Error {
  constructor(readonly etcdKey: string, message: string) {
    super(message);
    this.name = 'SealError';
  }
}

/**
 * Reads a key-encryption key: the file holds the 32 bytes base64-encoded (what `meshd store keygen`
 * writes; surrounding whitespace ignored) or raw. A mode wider than 0600 is narrowed with a warning.
 */
export function loadStoreKey(file: string, log: Logger): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StoreKeyError(file, `--store-key-file ${file}: no such file; create one with \`meshd store keygen ${file}\` and give every replica a copy`);
    throw new StoreKeyError(file, `--store-key-file ${file}: ${(err as Error).message}`);
  }
  let key: Buffer | undefined;
  if (raw.length === STORE_KEY_BYTES) key = raw;
  else {
    const text = raw.toString('utf8').trim();
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
      const decoded = Buffer.from(text, 'base64');
      if (decoded.length === STORE_KEY_BYTES) key = decoded;
    }
  }
  if (!key) {
    throw new StoreKeyError(file, `--store-key-file ${file}: not a key-encryption key (expected ${STORE_KEY_BYTES} bytes, base64-encoded or raw; \`meshd store keygen FILE\` writes one)`);
  }
  narrowModeSync(file, 0o600, log, 'store key file');
  return key;
}

/** Writes a new random key-encryption key (base64, mode 0600); refuses to replace an existing file. */
export function createStoreKeyFile(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new StoreKeyError(file, `${file} already exists; meshd store keygen never replaces a key (the material in etcd is sealed with it)`);
    throw new StoreKeyError(file, `${file}: ${(err as Error).message}`);
  }
  try {
    fs.fchmodSync(fd, 0o600); // the umask may have changed what openSync asked for
    fs.writeSync(fd, `${randomBytes(STORE_KEY_BYTES).toString('base64')}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Seals `plaintext` for storing under `etcdKey`. */
export function seal(key: Buffer, etcdKey: string, plaintext: Buffer): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(associatedData(etcdKey));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString('base64');
}

/** Opens a value `seal` made for `etcdKey`; a wrong key, another etcd key or damage is a SealError. */
export function unseal(key: Buffer, etcdKey: string, sealed: string): Buffer {
  if (!sealed.startsWith(SEALED_PREFIX)) throw new SealError(etcdKey, `${etcdKey}: not a sealed value (expected ${SEALED_PREFIX}…)`);
  const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64');
  if (bytes.length < NONCE_BYTES + TAG_BYTES) throw new SealError(etcdKey, `${etcdKey}: sealed value too short`);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE_BYTES));
  decipher.setAAD(associatedData(etcdKey));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new SealError(etcdKey, `${etcdKey}: does not open with this key-encryption key (a different key, or the value was moved or changed)`);
  }
}

function associatedData(etcdKey: string): Buffer {
  return Buffer.from(`meshd-sealed-v1\u0000${etcdKey}`, 'utf8');
}
