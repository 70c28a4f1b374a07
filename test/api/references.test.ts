import { strict as assert } from 'node:assert';
import { catalogOf } from '../../src/api/catalog';
import { usersOf } from '../../src/api/references';
import { revisionOf } from '../../src/store';

const MESH = [
  { kind: 'Mesh', meshName: 'app' },
  { kind: 'VirtualNode', meshName: 'app', virtualNodeName: 'a', spec: { listeners: [{ portMapping: { port: 80, protocol: 'http' } }], serviceDiscovery: { dns: { hostname: 'a.local' } } } },
  { kind: 'VirtualNode', meshName: 'app', virtualNodeName: 'caller', spec: { backends: [{ virtualService: { virtualServiceName: 'svc' } }] } },
  { kind: 'VirtualRouter', meshName: 'app', virtualRouterName: 'r', spec: { listeners: [{ portMapping: { port: 80, protocol: 'http' } }] } },
  { kind: 'Route', meshName: 'app', virtualRouterName: 'r', routeName: 'x', spec: { httpRoute: { match: { prefix: '/' }, action: { weightedTargets: [{ virtualNode: 'a', weight: 1 }] } } } },
  { kind: 'VirtualService', meshName: 'app', virtualServiceName: 'svc', spec: { provider: { virtualRouter: { virtualRouterName: 'r' } } } },
];

describe('api/references', () => {
  const text = JSON.stringify(MESH);
  const catalog = catalogOf([{ key: 'mesh.json', text, revision: revisionOf(text) }], { region: 'r', account: '1' }, new Date());
  const users = (kind: 'Mesh' | 'VirtualNode' | 'VirtualRouter' | 'VirtualService' | 'Route', name: string, parentName?: string): string[] =>
    usersOf(catalog, { kind, meshName: 'app', name, ...(parentName ? { parentName } : {}) }).map((item) => `${item.ref.kind} ${item.ref.name}`);

  it('finds what uses each resource: its mesh, its router, route targets, providers and backends', () => {
    assert.deepEqual(catalog.errors, []);
    assert.equal(users('Mesh', 'app').length, 5);
    assert.deepEqual(users('VirtualNode', 'a'), ['Route x']);
    assert.deepEqual(users('VirtualRouter', 'r'), ['Route x', 'VirtualService svc']);
    assert.deepEqual(users('VirtualService', 'svc'), ['VirtualNode caller']);
    assert.deepEqual(users('VirtualNode', 'caller'), []);
    assert.deepEqual(users('Route', 'x', 'r'), []);
  });
});
