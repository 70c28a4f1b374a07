import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NodeCredentials } from '../../src/auth/node-credential';
import { StateDirectoryError } from '../../src/pki/state-error';
import { openStateDirectory, type StateDirectory } from '../../src/runtime/state-directory';
import { capturingLogger } from '../pki/helpers';

describe('runtime/state-directory', () => {
  let work: string;
  let stateDir: string;
  const opened: StateDirectory[] = [];
  async function openHere(extra: Partial<Parameters<typeof openStateDirectory>[0]> = {}): Promise<StateDirectory> {
    const state = await openStateDirectory({ stateDir, trustDomain: 'meshd.local', ...extra });
    opened.push(state);
    return state;
  }
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-state-'));
    stateDir = path.join(work, 'state');
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((state) => state.authority.close()));
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('an existing directory without meshd state gets a CA and key, announced as new state (not as a lost CA)', async () => {
    fs.mkdirSync(stateDir, { mode: 0o700 });
    const { log, lines } = capturingLogger();
    await openHere({ log });
    assert.ok(fs.existsSync(path.join(stateDir, 'node-credential.key')));
    assert.ok(lines.some((line) => line.includes('"level":40') && line.includes(`in ${stateDir}, which held no meshd state`)), lines.join(''));
    assert.ok(!lines.some((line) => line.includes('earlier CA')), lines.join(''));
  });

  it('refuses a damaged node credential key, changing nothing; --new-node-key keeps it aside', async () => {
    const first = await openHere();
    const keyFile = path.join(stateDir, 'node-credential.key');
    fs.writeFileSync(keyFile, 'c2hvcnQ=\n', { mode: 0o600 });
    await assert.rejects(openHere(), (err: Error) => err instanceof StateDirectoryError && err.file === keyFile && /--new-node-key/.test(err.message));
    assert.equal(fs.readFileSync(keyFile, 'utf8'), 'c2hvcnQ=\n');
    const renewed = await openHere({ recovery: { newNodeKey: true } });
    assert.equal(renewed.authority.currentCa.id, first.authority.currentCa.id, 'the CA is untouched');
    assert.notEqual(renewed.credentials.tokenFor('mesh/a/virtualNode/b'), first.credentials.tokenFor('mesh/a/virtualNode/b'));
    const aside = fs.readdirSync(stateDir).find((name) => name.startsWith('node-credential.key.replaced-'));
    assert.ok(aside);
    assert.equal(fs.readFileSync(path.join(stateDir, aside), 'utf8'), 'c2hvcnQ=\n');
  });

  it('--new-node-key does nothing to an intact key', async () => {
    const first = await openHere();
    const again = await openHere({ recovery: { newNodeKey: true } });
    assert.equal(again.credentials.tokenFor('mesh/a/virtualNode/b'), first.credentials.tokenFor('mesh/a/virtualNode/b'));
    assert.deepEqual(NodeCredentials.load(stateDir).tokenFor('mesh/a/virtualNode/b'), first.credentials.tokenFor('mesh/a/virtualNode/b'));
  });

  it('refuses a state directory path that is a file', async () => {
    fs.writeFileSync(stateDir, 'not a directory');
    await assert.rejects(openHere(), (err: Error) => err.message.includes(`state directory ${stateDir} is not a directory`));
  });
});
