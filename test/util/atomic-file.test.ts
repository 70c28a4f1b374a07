import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from '../../src/util/atomic-file';
import { tempDir } from '../pki/helpers';

describe('pki/atomic-file', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => { temp = tempDir('atomic'); });
  afterEach(() => temp.cleanup());

  it('writes with the requested mode, replaces content, and leaves no temp files', async () => {
    const dir = path.join(temp.dir, 'secrets');
    await ensurePrivateDir(dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const file = path.join(dir, 'key.pem');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    assert.equal(readFileSync(file, 'utf8'), 'two');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    await writeFileAtomic(path.join(dir, 'ca.crt'), 'cert', 0o644);
    assert.equal(statSync(path.join(dir, 'ca.crt')).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(dir).sort(), ['ca.crt', 'key.pem']);
  });

  it('names the file when the directory is missing', async () => {
    await assert.rejects(writeFileAtomic(path.join(temp.dir, 'nope', 'key.pem'), 'x'), (err: Error) => err.message.startsWith(`writing ${path.join(temp.dir, 'nope', 'key.pem')}:`) && err.message.includes('ENOENT'));
  });
});
