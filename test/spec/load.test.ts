import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile, mkdir, symlink, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { formatErrors } from '../../src/spec/errors';
import { isSpecFile, loadSpecDir, staleSpecFiles } from '../../src/spec/load';
import { DEFAULT_SPEC_LIMITS } from '../../src/spec/limits';
import { ParsedSpecCache } from '../../src/spec/parse-cache';
import { writeConfigMap } from '../support/configmap';

describe('spec/load', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'meshd-spec-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('reads .yaml, .yml and .json files in name order and skips everything else', async () => {
    await writeFile(path.join(dir, 'b.yml'), 'kind: VirtualService\nmeshName: m\nvirtualServiceName: s\nspec: {}\n');
    await writeFile(path.join(dir, 'a.yaml'), 'kind: Mesh\nmeshName: m\n');
    await writeFile(path.join(dir, 'c.json'), JSON.stringify({ meshName: 'm', virtualRouterName: 'r', spec: { listeners: [{ portMapping: { port: 80, protocol: 'http' } }] } }));
    await writeFile(path.join(dir, 'README.md'), '# not a spec');
    await writeFile(path.join(dir, '.a.yaml.swp'), 'garbage: [');
    await mkdir(path.join(dir, 'sub.yaml'));
    const loaded = await loadSpecDir(dir);
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(loaded.resources.map((r) => `${r.source.file}:${r.kind}`), ['a.yaml:Mesh', 'b.yml:VirtualService', 'c.json:VirtualRouter']);
  });

  it('collects the errors of every file at once, by file', async () => {
    await writeFile(path.join(dir, 'nodes.yaml'), 'kind: VirtualNode\nmeshName: m\nvirtualNodeName: colorteller\nspec:\n  listeners:\n    - portMapping: { port: 80, protocol: http }\n      tls: { mode: ON, certificate: { sds: { secretName: default } } }\n');
    await writeFile(path.join(dir, 'broken.yaml'), 'kind: Mesh\n  meshName: m\n');
    await writeFile(path.join(dir, 'svc.json'), '{"meshName": "m", "virtualServiceName": "s", "spec": {"provider": {}}}');
    const loaded = await loadSpecDir(dir);
    assert.deepEqual(formatErrors(loaded.errors).split('\n'), [
      'broken.yaml:1:7: YAML syntax error: Nested mappings are not allowed in compact mappings',
      'broken.yaml:1:7: YAML syntax error: Implicit keys need to be on a single line',
      'nodes.yaml: VirtualNode colorteller: spec.listeners[0].tls.mode: must be STRICT, PERMISSIVE or DISABLED',
      'svc.json: VirtualService s: spec.provider: must set one of virtualNode or virtualRouter',
    ]);
    assert.deepEqual(loaded.invalid.map((r) => `${r.kind} ${r.name}`), ['VirtualNode colorteller', 'VirtualService s']);
  });

  it('reports a directory without spec files and one that does not exist', async () => {
    assert.deepEqual(formatErrors((await loadSpecDir(dir)).errors), `${dir}: no .yaml, .yml or .json spec files`);
    const missing = path.join(dir, 'nope');
    assert.deepEqual(formatErrors((await loadSpecDir(missing)).errors), `${missing}: cannot read spec directory: ENOENT`);
  });

  it('with a cache and the names that changed, reads those files again (and any other whose stat changed: a lost event), and finds added and removed files', async () => {
    const service = (name: string): string => `kind: VirtualService\nmeshName: m\nvirtualServiceName: ${name}\nspec: {}\n`;
    await writeFile(path.join(dir, 'a.yaml'), service('a1'));
    await writeFile(path.join(dir, 'b.yaml'), service('b1'));
    const cache = new ParsedSpecCache();
    const names = async (changed?: ReadonlySet<string>): Promise<string[]> =>
      (await loadSpecDir(dir, DEFAULT_SPEC_LIMITS, cache, changed)).resources.map((r) => `${r.source.file}:${(r as { virtualServiceName: string }).virtualServiceName}`);
    assert.deepEqual(await names(), ['a.yaml:a1', 'b.yaml:b1']);
    await writeFile(path.join(dir, 'a.yaml'), service('a2'));
    await writeFile(path.join(dir, 'b.yaml'), service('b2'));
    await writeFile(path.join(dir, 'c.yaml'), service('c1'));
    // Only a.yaml is said to have changed; b.yaml changed too but its event was lost: its stat
    // differs from the one it was read with, so it is read again; c.yaml (new) is read.
    assert.deepEqual(await names(new Set(['a.yaml'])), ['a.yaml:a2', 'b.yaml:b2', 'c.yaml:c1']);
    await rm(path.join(dir, 'a.yaml'));
    assert.deepEqual(await names(new Set()), ['b.yaml:b2', 'c.yaml:c1']);
    assert.deepEqual(await names(), ['b.yaml:b2', 'c.yaml:c1']);
  });

  it('with trust-watch, takes regular files without an event from the cache unread, still stat-ing linked ones', async () => {
    const service = (name: string): string => `kind: VirtualService\nmeshName: m\nvirtualServiceName: ${name}\nspec: {}\n`;
    const elsewhere = path.join(dir, 'elsewhere');
    const specs = path.join(dir, 'specs');
    await mkdir(elsewhere);
    await mkdir(specs);
    await writeFile(path.join(specs, 'a.yaml'), service('a1'));
    await writeFile(path.join(specs, 'b.yaml'), service('b1'));
    await writeFile(path.join(elsewhere, 'c.yaml'), service('c1'));
    await symlink(path.join(elsewhere, 'c.yaml'), path.join(specs, 'c.yaml'));
    const cache = new ParsedSpecCache();
    const load = (changed?: ReadonlySet<string>): ReturnType<typeof loadSpecDir> => loadSpecDir(specs, DEFAULT_SPEC_LIMITS, cache, changed, 'trust-watch');
    const names = async (changed?: ReadonlySet<string>): Promise<string[]> =>
      (await load(changed)).resources.map((r) => `${r.source.file}:${(r as { virtualServiceName: string }).virtualServiceName}`);
    const first = await load();
    assert.deepEqual(first.files, ['a.yaml', 'b.yaml', 'c.yaml']);
    assert.deepEqual(first.linkedFiles, ['c.yaml']);
    await writeFile(path.join(specs, 'a.yaml'), service('a2'));
    await writeFile(path.join(specs, 'b.yaml'), service('b2'));
    await writeFile(path.join(elsewhere, 'c.yaml'), service('c2'));
    // b.yaml has no event and is trusted as read; c.yaml is a link, so its stat is checked.
    assert.deepEqual(await names(new Set(['a.yaml'])), ['a.yaml:a2', 'b.yaml:b1', 'c.yaml:c2']);
    assert.deepEqual(await names(new Set(['b.yaml'])), ['a.yaml:a2', 'b.yaml:b2', 'c.yaml:c2']);
    // The listing too is the last one with the named entries looked at again.
    await writeFile(path.join(specs, 'd.yaml'), service('d1'));
    await rm(path.join(specs, 'a.yaml'));
    assert.deepEqual(await names(new Set(['d.yaml', 'a.yaml'])), ['b.yaml:b2', 'c.yaml:c2', 'd.yaml:d1']);
    await writeFile(path.join(specs, 'e.yaml'), service('e1'));
    assert.deepEqual(await names(new Set()), ['b.yaml:b2', 'c.yaml:c2', 'd.yaml:d1'], 'no event, not seen (until an audit)');
    assert.deepEqual(await names(), ['b.yaml:b2', 'c.yaml:c2', 'd.yaml:d1', 'e.yaml:e1'], 'a load of everything lists the directory');
  });

  it('names the spec files that changed, appeared or went away since a load (an audit for lost events)', async () => {
    const service = (name: string): string => `kind: VirtualService\nmeshName: m\nvirtualServiceName: ${name}\nspec: {}\n`;
    await writeFile(path.join(dir, 'a.yaml'), service('a'));
    await writeFile(path.join(dir, 'b.yaml'), service('b'));
    await writeFile(path.join(dir, 'big.yaml'), service('big'));
    const cache = new ParsedSpecCache();
    const limits = { ...DEFAULT_SPEC_LIMITS, maxFileBytes: 100 };
    await writeFile(path.join(dir, 'big.yaml'), `${service('big')}# ${'x'.repeat(200)}\n`);
    const loaded = await loadSpecDir(dir, limits, cache);
    assert.equal(loaded.errors.length, 1, 'big.yaml is over the limit');
    assert.deepEqual(staleSpecFiles(dir, cache, loaded.files ?? []), [], 'nothing changed; a file that could not be read is not stale by itself');
    await writeFile(path.join(dir, 'a.yaml'), service('a-longer'));
    await writeFile(path.join(dir, 'c.yaml'), service('c'));
    await rm(path.join(dir, 'b.yaml'));
    assert.deepEqual(staleSpecFiles(dir, cache, loaded.files ?? []), ['a.yaml', 'b.yaml', 'c.yaml']);
  });

  it('knows which names are spec files', () => {
    assert.deepEqual(['a.yaml', 'b.YML', 'c.json', 'd.txt', '.e.yaml', 'f.yaml~'].filter(isSpecFile), ['a.yaml', 'b.YML', 'c.json']);
  });

  const MESH = 'kind: Mesh\nmeshName: m\n';
  const SERVICE = 'kind: VirtualService\nmeshName: m\nvirtualServiceName: s\nspec: {}\n';

  it('reads a Kubernetes ConfigMap volume: follows the key symlinks and ignores the ..data internals', async () => {
    writeConfigMap(dir, { 'mesh.yaml': MESH, 'service.yaml': SERVICE });
    const loaded = await loadSpecDir(dir);
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(loaded.resources.map((r) => `${r.source.file}:${r.kind}`), ['mesh.yaml:Mesh', 'service.yaml:VirtualService']);
    writeConfigMap(dir, { 'mesh.yaml': MESH });
    assert.deepEqual((await loadSpecDir(dir)).resources.map((r) => `${r.source.file}:${r.kind}`), ['mesh.yaml:Mesh']);
  });

  it('follows a symlinked spec file and a symlinked spec directory', async () => {
    const elsewhere = path.join(dir, 'elsewhere');
    await mkdir(elsewhere);
    await writeFile(path.join(elsewhere, 'mesh.yaml'), MESH);
    const specs = path.join(dir, 'specs');
    await mkdir(specs);
    await symlink(path.join(elsewhere, 'mesh.yaml'), path.join(specs, 'linked.yaml'));
    await symlink(specs, path.join(dir, 'current'));
    const loaded = await loadSpecDir(path.join(dir, 'current'));
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(loaded.resources.map((r) => `${r.source.file}:${r.kind}`), ['linked.yaml:Mesh']);
  });

  it('reports a symlink loop and a dangling symlink by file name instead of skipping them', async () => {
    await writeFile(path.join(dir, 'mesh.yaml'), MESH);
    await symlink('loop-b.yaml', path.join(dir, 'loop-a.yaml'));
    await symlink('loop-a.yaml', path.join(dir, 'loop-b.yaml'));
    await symlink('gone.yaml', path.join(dir, 'dangling.yaml'));
    assert.deepEqual(formatErrors((await loadSpecDir(dir)).errors).split('\n'), [
      'dangling.yaml: is a symbolic link to gone.yaml, which does not exist',
      'loop-a.yaml: is a symbolic link loop (it never reaches a file)',
      'loop-b.yaml: is a symbolic link loop (it never reaches a file)',
    ]);
    const looped = path.join(dir, 'looped');
    await symlink(looped, looped);
    assert.equal(formatErrors((await loadSpecDir(looped)).errors), `${looped}: cannot read spec directory: it is a symbolic link loop`);
  });

  it('reads a single spec file given instead of a directory', async () => {
    const file = path.join(dir, 'mesh.yaml');
    await writeFile(file, MESH + '---\n' + SERVICE);
    const loaded = await loadSpecDir(file);
    assert.deepEqual(loaded.errors, []);
    assert.deepEqual(loaded.resources.map((r) => `${r.source.file}:${r.kind}`), ['mesh.yaml:Mesh', 'mesh.yaml:VirtualService']);
    await writeFile(path.join(dir, 'notes.txt'), 'hello');
    assert.equal(formatErrors((await loadSpecDir(path.join(dir, 'notes.txt'))).errors), 'notes.txt: is not a .yaml, .yml or .json spec file');
  });

  it('refuses a file over the size limit by its size on disk, naming the file and the limit', async () => {
    await writeFile(path.join(dir, 'mesh.yaml'), MESH);
    // 50 MB, sparse: reading it would allocate the memory the limit is there to protect.
    await writeFile(path.join(dir, 'huge.yaml'), '');
    await truncate(path.join(dir, 'huge.yaml'), 50 * 1024 * 1024);
    const loaded = await loadSpecDir(dir);
    assert.deepEqual(formatErrors(loaded.errors), 'huge.yaml: is 52428800 bytes, over the limit of 1048576 bytes for one spec file (--spec-max-file-size); not read');
    assert.deepEqual(loaded.resources.map((r) => r.kind), ['Mesh']);
  });

  it('loads a file of 130,000 documents as one error rather than overflowing the stack', async () => {
    // 910 KB: under the size limit, so the document limit is what stops it.
    await writeFile(path.join(dir, 'many.yaml'), '--- {}\n'.repeat(130_000));
    const loaded = await loadSpecDir(dir);
    assert.equal(formatErrors(loaded.errors), 'many.yaml: holds more than 10000 documents (--spec-max-documents); none of them was read');
  });
});
