import { strict as assert } from 'node:assert';
import { catalogOf, documentOf, rawDocuments, rewriteEntry, validateEntries } from '../../src/api/catalog';
import { parseSpecText } from '../../src/spec/parse';
import { revisionOf, type StoreEntry } from '../../src/store';

const context = { region: 'us-east-1', account: '123456789012' };
const since = new Date('2026-01-01T00:00:00Z');

function entry(key: string, text: string): StoreEntry {
  return { key, text, revision: revisionOf(text) };
}

const YAML = [
  '# mesh first',
  'kind: Mesh',
  'meshName: app',
  '---',
  '- kind: VirtualNode',
  '  meshName: app',
  '  virtualNodeName: a',
  '  spec: { serviceDiscovery: { dns: { hostname: a.local } } }',
  '- kind: VirtualNode',
  '  meshName: app',
  '  virtualNodeName: b',
  '  spec: { serviceDiscovery: { dns: { hostname: b.local } } }',
  '---',
  '# c by hand',
  'kind: VirtualNode',
  'meshName: app',
  'virtualNodeName: c',
  'spec: { serviceDiscovery: { dns: { hostname: c.local } } }',
  '',
].join('\n');

describe('api/catalog', () => {
  it("finds each resource's document, counting them as the spec parser does", () => {
    const catalog = catalogOf([entry('mesh.yaml', YAML)], context, since);
    assert.deepEqual(catalog.errors, []);
    assert.deepEqual(catalog.items.map((item) => [item.ref.kind, item.ref.name, item.index]), [['Mesh', 'app', 0], ['VirtualNode', 'a', 1], ['VirtualNode', 'b', 2], ['VirtualNode', 'c', 3]]);
    assert.equal(rawDocuments(catalog.items[0]!.entry).length, 4);
  });

  it('gives a hand-written resource version 1 and a uid that is the same on every read', () => {
    const first = catalogOf([entry('mesh.yaml', YAML)], context, since).items[1]!.metadata;
    const second = catalogOf([entry('mesh.yaml', YAML)], context, new Date()).items[1]!.metadata;
    assert.equal(first.version, 1);
    assert.equal(first.uid, second.uid);
    assert.equal(first.createdAt, since.toISOString());
  });

  it('writes documents in describe-* form that the spec parser reads back, metadata and all', () => {
    const ref = { kind: 'Route' as const, meshName: 'app', parentName: 'r', name: 'x' };
    const metadata = { uid: 'u', version: 3, createdAt: since.toISOString(), lastUpdatedAt: since.toISOString() };
    const spec = { httpRoute: { match: { prefix: '/' }, action: { weightedTargets: [{ virtualNode: 'a', weight: 1 }] } } };
    const document = documentOf(ref, { spec, tags: [{ key: 'k', value: 'v' }] }, metadata);
    const parsed = parseSpecText('x.json', JSON.stringify(document));
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.resources[0]!.kind, 'Route');
    const read = catalogOf([entry('mesh.yaml', 'kind: Mesh\nmeshName: app\n'), entry('x.json', JSON.stringify(document))], context, since).items.find((i) => i.ref.kind === 'Route');
    assert.equal(read?.metadata.version, 3);
    assert.deepEqual(read?.tags, [{ key: 'k', value: 'v' }]);
  });

  it('rewrites one document of a YAML file, keeping the others and their comments', () => {
    const original = entry('mesh.yaml', YAML);
    const replaced = rewriteEntry(original, 3, { kind: 'VirtualNode', meshName: 'app', virtualNodeName: 'c', spec: { serviceDiscovery: { dns: { hostname: 'c2.local' } } } })!;
    assert.match(replaced, /# mesh first/);
    assert.match(replaced, /c2\.local/);
    assert.doesNotMatch(replaced, /hostname: c\.local/);
    const inList = rewriteEntry(original, 2, undefined)!;
    assert.doesNotMatch(inList, /virtualNodeName: b/);
    assert.match(inList, /virtualNodeName: a/);
    const removedFirst = rewriteEntry(original, 0, undefined)!;
    assert.ok(parseSpecText('mesh.yaml', removedFirst).errors.length === 0, removedFirst);
    assert.equal(parseSpecText('mesh.yaml', removedFirst).resources.length, 3);
    assert.equal(rewriteEntry(entry('one.yaml', 'kind: Mesh\nmeshName: x\n'), 0, undefined), undefined, 'nothing left: the entry goes');
  });

  it('refuses to rewrite a YAML file that has a syntax error, rather than lose the broken part', () => {
    const broken = entry('mesh.yaml', 'kind: Mesh\nmeshName: app\n---\nkind: [unclosed\n');
    assert.throws(() => rewriteEntry(broken, 0, { kind: 'Mesh', meshName: 'app', spec: {} }), (err: Error) => err.name === 'BadRequestException' && /mesh\.yaml: has a YAML syntax error/.test(err.message));
  });

  it('rewrites an element of a JSON list', () => {
    const list = entry('all.json', JSON.stringify([{ kind: 'Mesh', meshName: 'a' }, { kind: 'Mesh', meshName: 'b' }]));
    assert.deepEqual(JSON.parse(rewriteEntry(list, 1, undefined)!), [{ kind: 'Mesh', meshName: 'a' }]);
    assert.deepEqual(JSON.parse(rewriteEntry(list, 0, { kind: 'Mesh', meshName: 'c' })!), [{ kind: 'Mesh', meshName: 'c' }, { kind: 'Mesh', meshName: 'b' }]);
  });

  it('validates entries as the spec directory would: parse errors and model errors', () => {
    const { errors } = validateEntries([entry('n.yaml', 'kind: VirtualNode\nmeshName: nomesh\nvirtualNodeName: n\nspec: {}\n')]);
    assert.ok(errors.some((e) => e.file === 'n.yaml' && /mesh/.test(e.message)), JSON.stringify(errors));
  });
});
