import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readInputFiles } from '../../src/import/input-files';
import { formatError } from '../../src/spec/errors';

describe('import: reading input files', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-import-input-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads files and the template files directly in directories, in name order, and names what it cannot read', async () => {
    fs.writeFileSync(path.join(dir, 'b.yaml'), 'b');
    fs.writeFileSync(path.join(dir, 'a.json'), 'a');
    fs.writeFileSync(path.join(dir, 'c.template'), 'c');
    fs.writeFileSync(path.join(dir, '.hidden.yaml'), 'h');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'n');
    fs.writeFileSync(path.join(dir, 'big.yaml'), 'x'.repeat(100));
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'd.yaml'), 'd');
    const read = await readInputFiles([dir, path.join(dir, 'sub', 'd.yaml'), path.join(dir, 'missing.yaml')], 50);
    assert.deepEqual(read.files.map((file) => [path.relative(dir, file.name), file.text]), [['a.json', 'a'], ['b.yaml', 'b'], ['c.template', 'c'], [path.join('sub', 'd.yaml'), 'd']]);
    assert.deepEqual(read.errors.map(formatError).map((line) => line.replace(dir + path.sep, '')), [
      'big.yaml: is 100 bytes, over the limit of 50 bytes (--spec-max-file-size); not read',
      'missing.yaml: cannot read: ENOENT',
    ]);
  });

  it('says so when a directory holds nothing to read', async () => {
    const read = await readInputFiles([dir], 50);
    assert.match(formatError(read.errors[0]!), /holds no \.yaml, \.yml, \.json, \.template files$/);
  });
});
