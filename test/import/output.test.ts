import { strict as assert } from 'node:assert';
import type { ImportedResource } from '../../src/import/imported';
import { joinDocuments, renderSpecFiles, validateSpecFiles } from '../../src/import/output';

const mesh: ImportedResource = { kind: 'Mesh', body: { kind: 'Mesh', meshName: 'demo', spec: {} }, origin: 'a.yaml: Mesh' };
const node: ImportedResource = {
  kind: 'VirtualNode',
  body: { kind: 'VirtualNode', meshName: 'demo', virtualNodeName: 'api', spec: { listeners: [{ portMapping: { port: 8080, protocol: 'http' } }], serviceDiscovery: { dns: { hostname: 'api.demo' } } } },
  origin: 'a.yaml: Api',
};
const route: ImportedResource = {
  kind: 'Route',
  body: { kind: 'Route', meshName: 'demo', virtualRouterName: 'r', routeName: 'to:api', spec: { httpRoute: { match: { prefix: '/' }, action: { weightedTargets: [{ virtualNode: 'api', weight: 1 }] } } } },
  origin: 'a.yaml: Route',
};

describe('import: writing spec files', () => {
  it('orders files by mesh, kind and name whatever the input order, with file-system-safe names', () => {
    const forward = renderSpecFiles([mesh, node, route], 'meshd import test');
    const backward = renderSpecFiles([route, node, mesh], 'meshd import test');
    assert.deepEqual(forward, backward);
    assert.deepEqual(forward.map((file) => file.name), ['demo.mesh.yaml', 'demo.virtual-node.api.yaml', 'demo.route.r.to_api.yaml']);
    assert.equal(forward[0]!.text, '# meshd import test: a.yaml: Mesh\nkind: Mesh\nmeshName: demo\nspec: {}\n');
    assert.equal(joinDocuments(forward).split('---\n').length, 3);
  });

  it('never gives two resources the same file', () => {
    const files = renderSpecFiles([node, { ...node, origin: 'b.yaml: Api' }], 'meshd import test');
    assert.deepEqual(files.map((file) => file.name), ['demo.virtual-node.api.yaml', 'demo.virtual-node.api.2.yaml']);
  });

  it('validates the files as meshd validate does, naming the file of each error', () => {
    const { errors } = validateSpecFiles(renderSpecFiles([mesh, node, route], 'meshd import test'), 'meshd.local');
    assert.ok(errors.some((error) => error.file === 'demo.route.r.to_api.yaml' && error.path === 'virtualRouterName'), JSON.stringify(errors));
  });
});
