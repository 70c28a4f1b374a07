// `meshd api-keys create|list|revoke` as a process: a 0600 keys file, the secret printed once and
// never listed.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/run-cli';

describe('cli: meshd api-keys', () => {
  let work: string;
  beforeEach(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-keys-')); });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it('creates keys in <state-dir>/api-keys.json (0600), lists them without secrets, revokes them', async () => {
    const state = path.join(work, 'state');
    const created = await runCli(['api-keys', 'create', '--state-dir', state, '--description', 'ci pipeline']);
    assert.equal(created.code, 0, created.stderr);
    const id = /export AWS_ACCESS_KEY_ID=(\S+)/.exec(created.stdout)![1]!;
    const secret = /export AWS_SECRET_ACCESS_KEY=(\S+)/.exec(created.stdout)![1]!;
    const file = path.join(state, 'api-keys.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const readOnly = JSON.parse((await runCli(['api-keys', 'create', '--state-dir', state, '--read-only', '--json'])).stdout) as { accessKeyId: string; access: string };
    assert.equal(readOnly.access, 'read-only');
    const listed = await runCli(['api-keys', 'list', '--state-dir', state]);
    assert.match(listed.stdout, new RegExp(`${id}\\s+read-write\\s+\\S+\\s+ci pipeline`));
    assert.match(listed.stdout, new RegExp(`${readOnly.accessKeyId}\\s+read-only`));
    assert.ok(!listed.stdout.includes(secret) && !listed.stderr.includes(secret), 'list never shows a secret');
    const json = JSON.parse((await runCli(['api-keys', 'list', '--state-dir', state, '--json'])).stdout) as Record<string, unknown>[];
    assert.ok(json.every((key) => !('secretAccessKey' in key)));
    const revoked = await runCli(['api-keys', 'revoke', id, '--state-dir', state]);
    assert.equal(revoked.code, 0);
    assert.doesNotMatch((await runCli(['api-keys', 'list', '--state-dir', state])).stdout, new RegExp(id));
    const again = await runCli(['api-keys', 'revoke', id, '--state-dir', state]);
    assert.equal(again.code, 1);
    assert.match(again.stdout, /no key/);
  });

  it('uses the file --keys-file names', async () => {
    const file = path.join(work, 'elsewhere', 'keys.json');
    assert.equal((await runCli(['api-keys', 'create', '--keys-file', file])).code, 0);
    assert.equal((JSON.parse(fs.readFileSync(file, 'utf8')) as { keys: unknown[] }).keys.length, 1);
  });

  it('says which file and key are wrong in a malformed keys file', async () => {
    const file = path.join(work, 'keys.json');
    fs.writeFileSync(file, '{"keys":[{"accessKeyId":"A"}]}');
    const listed = await runCli(['api-keys', 'list', '--keys-file', file]);
    assert.notEqual(listed.code, 0);
    assert.match(listed.stderr, /keys\.json: keys\[0\]: must have accessKeyId, secretAccessKey, access/);
  });
});
