// Sealing private keys for etcd: AES-256-GCM under the key-encryption key, bound to the etcd key
// name; the key file's forms, its refusals (naming the file) and `meshd store keygen`'s file.
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { createStoreKeyFile, loadStoreKey, SealError, seal, StoreKeyError, unseal } from '../../src/store/sealing';

describe('store/sealing', () => {
  let work: string;
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => { warnings.push(line); } });
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-sealing-'));
    warnings.length = 0;
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it('opens what it sealed, and nothing else: another key, another etcd key name or a changed byte fail', () => {
    const key = randomBytes(32);
    const secret = randomBytes(48);
    const sealed = seal(key, '/m/ca/ca-1/ca.key', secret);
    assert.ok(!sealed.includes(secret.toString('base64')), 'the plaintext is not in the sealed text');
    assert.notEqual(seal(key, '/m/ca/ca-1/ca.key', secret), sealed, 'a fresh nonce per seal');
    assert.deepEqual(unseal(key, '/m/ca/ca-1/ca.key', sealed), secret);
    assert.throws(() => unseal(randomBytes(32), '/m/ca/ca-1/ca.key', sealed), (err: Error) => err instanceof SealError && /does not open with this key-encryption key/.test(err.message));
    assert.throws(() => unseal(key, '/m/secrets/node-credential.key', sealed), SealError, 'moved to another etcd key, it does not open');
    const bytes = Buffer.from(sealed.slice(sealed.indexOf(':') + 1), 'base64');
    bytes[20] = bytes[20]! ^ 1;
    assert.throws(() => unseal(key, '/m/ca/ca-1/ca.key', `meshd-sealed-v1:${bytes.toString('base64')}`), SealError);
    assert.throws(() => unseal(key, '/m/x', 'plain text'), /not a sealed value/);
  });

  it('writes a key with keygen (0600, base64) and never replaces one', () => {
    const file = path.join(work, 'store.key');
    createStoreKeyFile(file);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64').length, 32);
    const before = fs.readFileSync(file);
    assert.throws(() => createStoreKeyFile(file), (err: Error) => err instanceof StoreKeyError && err.message.includes(file) && /already exists/.test(err.message));
    assert.deepEqual(fs.readFileSync(file), before);
  });

  it('loads a base64 key or 32 raw bytes, and narrows a wide mode with a warning', () => {
    const encoded = path.join(work, 'encoded.key');
    createStoreKeyFile(encoded);
    const key = loadStoreKey(encoded, log);
    assert.equal(key.length, 32);
    const raw = path.join(work, 'raw.key');
    fs.writeFileSync(raw, key, { mode: 0o644 });
    fs.chmodSync(raw, 0o644);
    assert.deepEqual(loadStoreKey(raw, log), key);
    assert.equal(fs.statSync(raw).mode & 0o777, 0o600);
    assert.match(warnings.join(''), /store key file had a wider mode than 0600/);
  });

  it('refuses a missing or malformed key file, naming the file and how to make one', () => {
    const missing = path.join(work, 'none.key');
    assert.throws(() => loadStoreKey(missing, log), (err: Error) => err instanceof StoreKeyError && err.message.includes(missing) && /meshd store keygen/.test(err.message));
    const short = path.join(work, 'short.key');
    fs.writeFileSync(short, `${randomBytes(16).toString('base64')}\n`, { mode: 0o600 });
    assert.throws(() => loadStoreKey(short, log), (err: Error) => err instanceof StoreKeyError && err.message.includes(short) && /expected 32 bytes/.test(err.message));
  });
});
