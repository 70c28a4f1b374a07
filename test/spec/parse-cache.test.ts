import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_SPEC_LIMITS } from '../../src/spec/limits';
import { loadSpecDir } from '../../src/spec/load';
import { ParsedSpecCache } from '../../src/spec/parse-cache';

const MESH = 'kind: Mesh\nmeshName: demo\nspec: {}\n';
const node = (name: string, port: number): string =>
  `kind: VirtualNode\nmeshName: demo\nvirtualNodeName: ${name}\nspec:\n  listeners:\n    - portMapping: { port: ${port}, protocol: http }\n  serviceDiscovery:\n    dns: { hostname: ${name}.demo.local }\n`;

describe('spec/parse-cache', () => {
  it('gives back the same parse for the same text and limits, and parses again otherwise', () => {
    const cache = new ParsedSpecCache();
    const first = cache.parse('a.yaml', node('a', 8080), DEFAULT_SPEC_LIMITS);
    assert.equal(cache.parse('a.yaml', node('a', 8080), DEFAULT_SPEC_LIMITS), first);
    assert.notEqual(cache.parse('a.yaml', node('a', 9090), DEFAULT_SPEC_LIMITS), first, 'changed text');
    const again = cache.parse('a.yaml', node('a', 9090), DEFAULT_SPEC_LIMITS);
    assert.notEqual(cache.parse('a.yaml', node('a', 9090), { ...DEFAULT_SPEC_LIMITS, maxAliases: 5 }), again, 'other limits');
  });

  it('parses only the file that changed between two loads of a directory, and forgets removed files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-parse-cache-'));
    try {
      fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH);
      fs.writeFileSync(path.join(dir, 'a.yaml'), node('a', 8080));
      fs.writeFileSync(path.join(dir, 'b.yaml'), node('b', 8080));
      const cache = new ParsedSpecCache();
      const before = await loadSpecDir(dir, DEFAULT_SPEC_LIMITS, cache);
      fs.writeFileSync(path.join(dir, 'b.yaml'), node('b', 9090));
      const after = await loadSpecDir(dir, DEFAULT_SPEC_LIMITS, cache);
      const byName = (specs: typeof before, name: string): unknown => specs.resources.find((r) => 'virtualNodeName' in r && r.virtualNodeName === name);
      assert.equal(byName(after, 'a'), byName(before, 'a'), 'the unchanged file was not parsed again');
      assert.notEqual(byName(after, 'b'), byName(before, 'b'));
      fs.rmSync(path.join(dir, 'a.yaml'));
      const removed = await loadSpecDir(dir, DEFAULT_SPEC_LIMITS, cache);
      assert.equal(byName(removed, 'a'), undefined, 'a removed file is gone, not served from the cache');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
