import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { narrowMode, narrowModeSync } from '../../src/util/file-mode';
import { capturingLogger } from '../pki/helpers';

describe('util/file-mode', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-mode-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('removes the bits outside the allowed mode and warns, naming the file and both modes', async () => {
    const file = path.join(dir, 'secret');
    fs.writeFileSync(file, 'x');
    fs.chmodSync(file, 0o666);
    const { log, lines } = capturingLogger();
    await narrowMode(file, 0o600, log, 'secret file');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.includes(`"file":"${file}"`) && lines[0]!.includes('"mode":"666"') && lines[0]!.includes('"narrowedTo":"600"'), lines[0]);
  });

  it('leaves a mode within the allowed one alone, silently (also synchronously)', () => {
    fs.chmodSync(dir, 0o750);
    const { log, lines } = capturingLogger();
    narrowModeSync(dir, 0o750, log, 'directory');
    fs.chmodSync(dir, 0o700);
    narrowModeSync(dir, 0o750, log, 'directory');
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(lines, []);
  });
});
