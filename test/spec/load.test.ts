import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { formatErrors } from '../../src/spec/errors';
import { isSpecFile, loadSpecDir } from '../../src/spec/load';

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

  it('knows which names are spec files', () => {
    assert.deepEqual(['a.yaml', 'b.YML', 'c.json', 'd.txt', '.e.yaml', 'f.yaml~'].filter(isSpecFile), ['a.yaml', 'b.YML', 'c.json']);
  });
});
