// Writes a directory the way the kubelet projects a ConfigMap volume (its "atomic writer"):
// the files live in a hidden timestamped directory, `..data` is a symlink to it, and every key is
// a symlink `<key> -> ..data/<key>`. An update writes a new timestamped directory, points a new
// `..data_tmp` link at it, renames that over `..data` (the atomic swap), adds links for new keys,
// removes links of removed keys, and deletes the old directory.
import * as fs from 'node:fs';
import * as path from 'node:path';

let generation = 0;

/** Projects `files` (key -> content) into `dir` as a ConfigMap volume, replacing what was there. */
export function writeConfigMap(dir: string, files: Readonly<Record<string, string>>): void {
  fs.mkdirSync(dir, { recursive: true });
  const dataLink = path.join(dir, '..data');
  const previous = fs.existsSync(dataLink) ? fs.readlinkSync(dataLink) : undefined;
  generation += 1;
  const stamp = `..${new Date().toISOString().replace(/[-:T]/g, '_').replace(/\..*$/, '')}.${process.pid}${generation}`;
  fs.mkdirSync(path.join(dir, stamp));
  for (const [key, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, stamp, key), content);
  fs.symlinkSync(stamp, path.join(dir, '..data_tmp'));
  fs.renameSync(path.join(dir, '..data_tmp'), dataLink);
  for (const key of Object.keys(files)) {
    if (!fs.existsSync(path.join(dir, key))) fs.symlinkSync(path.join('..data', key), path.join(dir, key));
  }
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith('..') && !(name in files)) fs.unlinkSync(path.join(dir, name));
  }
  if (previous !== undefined) fs.rmSync(path.join(dir, previous), { recursive: true, force: true });
}
