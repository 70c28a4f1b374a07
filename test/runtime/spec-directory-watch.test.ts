import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SpecDirectoryWatch } from '../../src/runtime/spec-directory-watch';
import { until } from '../support/until';

describe('runtime/spec-directory-watch', () => {
  let work: string;
  let dir: string;
  let watch: SpecDirectoryWatch | undefined;
  let changed: (string | undefined)[];
  let renamed: number;

  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-dirwatch-'));
    dir = path.join(work, 'specs');
    fs.mkdirSync(dir);
    changed = [];
    renamed = 0;
  });
  afterEach(() => {
    watch?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const start = (): SpecDirectoryWatch => {
    watch = new SpecDirectoryWatch(dir, {
      changed: (name) => changed.push(name),
      renamed: () => { renamed += 1; },
      failed: (message) => assert.fail(`the watch failed: ${message}`),
    });
    return watch;
  };

  it('names new, changed, atomically saved and deleted files', async () => {
    fs.writeFileSync(path.join(dir, 'old.yaml'), 'a: 1\n');
    start();
    fs.writeFileSync(path.join(dir, 'new.yaml'), 'a: 1\n');
    await until(() => changed.includes('new.yaml'));
    fs.appendFileSync(path.join(dir, 'old.yaml'), 'b: 2\n');
    await until(() => changed.includes('old.yaml'));
    changed = [];
    // An editor's save: a temporary file renamed over the original.
    fs.writeFileSync(path.join(dir, '.new.yaml.tmp'), 'c: 3\n');
    fs.renameSync(path.join(dir, '.new.yaml.tmp'), path.join(dir, 'new.yaml'));
    await until(() => changed.includes('new.yaml'));
    changed = [];
    fs.rmSync(path.join(dir, 'old.yaml'));
    await until(() => changed.includes('old.yaml'));
    assert.equal(renamed, 0);
  });

  it('says when the directory itself is moved away', async () => {
    start();
    fs.renameSync(dir, `${dir}.away`);
    await until(() => renamed > 0);
  });

  it('follows the targets of linked spec files, in place and replaced, and forgets links that went away', async () => {
    const elsewhere = path.join(work, 'elsewhere');
    fs.mkdirSync(elsewhere);
    const target = path.join(elsewhere, 'mesh.yaml');
    fs.writeFileSync(target, 'a: 1\n');
    fs.symlinkSync(target, path.join(dir, 'linked.yaml'));
    const watching = start();
    watching.watchLinks(['linked.yaml']);
    fs.appendFileSync(target, 'b: 2\n');
    await until(() => changed.includes('linked.yaml'));
    changed = [];
    // Replaced by a rename: the old target's watch says so once, and the new target is watched
    // after the next load says which links there are.
    fs.writeFileSync(`${target}.tmp`, 'c: 3\n');
    fs.renameSync(`${target}.tmp`, target);
    await until(() => changed.includes('linked.yaml'));
    watching.watchLinks(['linked.yaml']);
    changed = [];
    fs.appendFileSync(target, 'd: 4\n');
    await until(() => changed.includes('linked.yaml'));
    watching.watchLinks([]);
    changed = [];
    fs.appendFileSync(target, 'e: 5\n');
    // Its own event proves the directory's watch still reports; the forgotten link stays silent.
    fs.writeFileSync(path.join(dir, 'after.yaml'), 'f: 6\n');
    await until(() => changed.includes('after.yaml'));
    assert.ok(!changed.includes('linked.yaml'), changed.join());
  });
});
