import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createKey, KeyRing, readKeys, revokeKey } from '../../src/api/keys';

describe('api/keys', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-apikeys-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates keys in a 0600 file in a 0700 directory, and revokes them', () => {
    const file = path.join(dir, 'state', 'api-keys.json');
    const key = createKey(file, 'read-only', 'dashboards');
    assert.match(key.accessKeyId, /^MSHD[A-Z2-7]{16}$/);
    assert.ok(key.secretAccessKey.length >= 40);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.deepEqual(readKeys(file).map((k) => [k.accessKeyId, k.access, k.description]), [[key.accessKeyId, 'read-only', 'dashboards']]);
    assert.equal(revokeKey(file, key.accessKeyId), true);
    assert.equal(revokeKey(file, key.accessKeyId), false);
  });

  it('sees keys added and revoked after it started, and keeps the last good keys over a broken file', () => {
    const file = path.join(dir, 'keys.json');
    const errors: string[] = [];
    const ring = new KeyRing(file, (message) => errors.push(message));
    const key = createKey(file, 'read-write');
    assert.equal(ring.get(key.accessKeyId)?.access, 'read-write');
    fs.writeFileSync(file, '{ not json');
    assert.equal(ring.get(key.accessKeyId)?.access, 'read-write');
    assert.match(errors[0]!, /keys\.json: not JSON.*keeping the keys read before/);
    assert.ok(!errors[0]!.includes(key.secretAccessKey));
    fs.writeFileSync(file, JSON.stringify({ keys: [] }));
    assert.equal(ring.get(key.accessKeyId), undefined);
  });
});
