import { strict as assert } from 'node:assert';
import { stringify } from 'yaml';
import { BuildMemo, type BuildKind } from '../../src/model/build-memo';
import { buildModel, type BuildResult } from '../../src/model/build';
import { formatErrors } from '../../src/spec/errors';
import { DEFAULT_SPEC_LIMITS } from '../../src/spec/limits';
import { ParsedSpecCache } from '../../src/spec/parse-cache';
import { verifyIncrementalBuilds } from '../support/incremental-build';

/** Documents by file name, one resource a file (as the one-file-change benchmark keeps them). */
type Files = Record<string, Record<string, unknown>>;

const node = (name: string, options: { port?: number; mode?: string; backends?: string[] } = {}): Record<string, unknown> => ({
  kind: 'VirtualNode', meshName: 'm', virtualNodeName: name,
  spec: {
    listeners: [{
      portMapping: { port: options.port ?? 8080, protocol: 'http' },
      tls: { mode: options.mode ?? 'STRICT', certificate: { acm: { certificateArn: `arn:aws:acm:r:1:certificate/${name}` } } },
    }],
    serviceDiscovery: { dns: { hostname: `${name}.m.local` } },
    backends: (options.backends ?? []).map((virtualServiceName) => ({ virtualService: { virtualServiceName } })),
  },
});
const nodeService = (name: string, provider: string): Record<string, unknown> =>
  ({ kind: 'VirtualService', meshName: 'm', virtualServiceName: name, spec: { provider: { virtualNode: { virtualNodeName: provider } } } });
const routedService = (name: string, router: string): Record<string, unknown> =>
  ({ kind: 'VirtualService', meshName: 'm', virtualServiceName: name, spec: { provider: { virtualRouter: { virtualRouterName: router } } } });
const router = (name: string, port = 8080): Record<string, unknown> =>
  ({ kind: 'VirtualRouter', meshName: 'm', virtualRouterName: name, spec: { listeners: [{ portMapping: { port, protocol: 'http' } }] } });
const route = (name: string, routerName: string, targets: { virtualNode: string; weight: number; port?: number }[]): Record<string, unknown> =>
  ({ kind: 'Route', meshName: 'm', virtualRouterName: routerName, routeName: name, spec: { httpRoute: { match: { prefix: '/' }, action: { weightedTargets: targets } } } });

/** a and c call svc-b (router r: b and d) and svc-d (node d); gateway g fronts svc-b. */
function baseFiles(): Files {
  return {
    'mesh.yaml': { kind: 'Mesh', meshName: 'm', spec: {} },
    'node-a.yaml': node('a', { backends: ['svc-b', 'svc-d'] }),
    'node-b.yaml': node('b'),
    'node-c.yaml': node('c', { backends: ['svc-b'] }),
    'node-d.yaml': node('d'),
    'svc-b.yaml': routedService('svc-b', 'r'),
    'svc-d.yaml': nodeService('svc-d', 'd'),
    'router-r.yaml': router('r'),
    'route-rt.yaml': route('rt', 'r', [{ virtualNode: 'b', weight: 90 }, { virtualNode: 'd', weight: 10 }]),
    'gateway-g.yaml': { kind: 'VirtualGateway', meshName: 'm', virtualGatewayName: 'g', spec: { listeners: [{ portMapping: { port: 8443, protocol: 'http' } }] } },
    'gateway-route-gr.yaml': {
      kind: 'GatewayRoute', meshName: 'm', virtualGatewayName: 'g', gatewayRouteName: 'gr',
      spec: { httpRoute: { match: { prefix: '/' }, action: { target: { virtualService: { virtualServiceName: 'svc-b' } } } } },
    },
  };
}

/**
 * Loads as a watcher does: every file through one parse cache (an unchanged file gives back the
 * same resources), then one memo's build; each build is also made in full, and must be the same.
 */
class Loads {
  private readonly cache = new ParsedSpecCache();
  readonly memo = new BuildMemo();

  build(files: Files): { result: BuildResult; kind: BuildKind | undefined } {
    const parsed = Object.keys(files).sort().map((name) => this.cache.parse(name, stringify(files[name]), DEFAULT_SPEC_LIMITS));
    this.cache.endLoad();
    const resources = parsed.flatMap((file) => file.resources);
    const invalid = parsed.flatMap((file) => file.invalid);
    const result = this.memo.build(resources, { invalid });
    const full = buildModel(resources, { invalid });
    assert.equal(JSON.stringify(result), JSON.stringify(full), 'the memo gives what a full build gives');
    return { result, kind: this.memo.lastBuildKind };
  }
}

const hashes = (result: BuildResult): Record<string, string> => {
  assert.ok(result.ok, result.ok ? '' : formatErrors(result.errors));
  return Object.fromEntries(Object.entries(result.model.endpoints).map(([id, endpoint]) => [id, endpoint.hash]));
};
const changedEndpoints = (before: BuildResult, after: BuildResult): string[] => {
  const a = hashes(before);
  const b = hashes(after);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((id) => a[id] !== b[id]).map((id) => id.split('/').pop()!).sort();
};

describe('model/build-memo', () => {
  verifyIncrementalBuilds();

  it('builds the first load in full, then a modified node incrementally: it and the endpoints that call it change', () => {
    const loads = new Loads();
    const files = baseFiles();
    const first = loads.build(files);
    assert.equal(first.kind, 'full');
    files['node-b.yaml'] = node('b', { mode: 'PERMISSIVE' });
    const second = loads.build(files);
    assert.equal(second.kind, 'incremental');
    assert.deepEqual(changedEndpoints(first.result, second.result), ['a', 'b', 'c', 'g']);
    assert.ok(second.result.ok);
    const b = second.result.model.endpoints['mesh/m/virtualNode/b']!;
    for (const frozen of [second.result.model, second.result.model.endpoints, second.result.model.warnings, b, b.listeners[0]!.tls!]) assert.ok(Object.isFrozen(frozen));
    files['node-d.yaml'] = node('d', { mode: 'PERMISSIVE' });
    const third = loads.build(files);
    assert.equal(third.kind, 'incremental');
    assert.deepEqual(changedEndpoints(second.result, third.result), ['a', 'c', 'd', 'g']);
  });

  it('adds and deletes files incrementally: a new node with its service and a caller, then all three gone', () => {
    const loads = new Loads();
    const files = baseFiles();
    const first = loads.build(files).result;
    files['node-e.yaml'] = node('e');
    files['svc-e.yaml'] = nodeService('svc-e', 'e');
    files['node-f.yaml'] = node('f', { backends: ['svc-e'] });
    const added = loads.build(files);
    assert.equal(added.kind, 'incremental');
    assert.deepEqual(changedEndpoints(first, added.result), ['e', 'f']);
    delete files['node-e.yaml'];
    delete files['svc-e.yaml'];
    delete files['node-f.yaml'];
    const removed = loads.build(files);
    assert.equal(removed.kind, 'incremental');
    assert.deepEqual(changedEndpoints(first, removed.result), []);
  });

  it('follows routers and routes: a weight shift changes the callers of the routed service, a new route target too', () => {
    const loads = new Loads();
    const files = baseFiles();
    const first = loads.build(files).result;
    files['route-rt.yaml'] = route('rt', 'r', [{ virtualNode: 'b', weight: 50 }, { virtualNode: 'd', weight: 50 }]);
    const shifted = loads.build(files);
    assert.equal(shifted.kind, 'incremental');
    assert.deepEqual(changedEndpoints(first, shifted.result), ['a', 'c', 'g']);
    files['router-r.yaml'] = router('r', 8081);
    files['route-rt.yaml'] = route('rt', 'r', [{ virtualNode: 'b', weight: 1 }]);
    files['route-rt2.yaml'] = route('rt2', 'r', [{ virtualNode: 'd', weight: 1 }]);
    const rerouted = loads.build(files);
    assert.equal(rerouted.kind, 'incremental');
    assert.deepEqual(changedEndpoints(shifted.result, rerouted.result), ['a', 'c', 'g']);
  });

  it('refuses a change that breaks a reference elsewhere with the full build\'s errors, then heals with the fix', () => {
    const loads = new Loads();
    const files = baseFiles();
    files['route-rt.yaml'] = route('rt', 'r', [{ virtualNode: 'b', weight: 90, port: 8080 }, { virtualNode: 'd', weight: 10 }]);
    const good = loads.build(files).result;
    // b's port moves: the route naming b's old port is now wrong, in another file.
    files['node-b.yaml'] = node('b', { port: 9090 });
    const broken = loads.build(files);
    assert.equal(broken.kind, 'full');
    assert.ok(!broken.result.ok);
    assert.deepEqual(formatErrors(broken.result.errors).split('\n'), [
      'route-rt.yaml: Route rt: spec.httpRoute.action.weightedTargets[0].port: virtual node "b" has no listener on port 8080',
    ]);
    // A service gone while callers still name it: the callers' errors.
    delete files['svc-d.yaml'];
    const worse = loads.build(files);
    assert.ok(!worse.result.ok);
    assert.equal(formatErrors(worse.result.errors).split('\n').length, 2);
    files['svc-d.yaml'] = nodeService('svc-d', 'd');
    files['node-b.yaml'] = node('b');
    const healed = loads.build(files);
    assert.equal(healed.kind, 'incremental', 'built from the last valid build');
    assert.deepEqual(changedEndpoints(good, healed.result), []);
  });

  it('does not build from a load with a schema failure: what referred to the failed resource comes back with its fix', () => {
    const loads = new Loads();
    const files = baseFiles();
    loads.build(files);
    // svc-d fails its schema: a's backend to it is left out without an error (the load's error refuses the change).
    files['svc-d.yaml'] = { ...nodeService('svc-d', 'd'), spec: { provider: 'd' } };
    const failed = loads.build(files);
    assert.equal(failed.kind, 'full');
    assert.deepEqual(failed.result.ok && failed.result.model.endpoints['mesh/m/virtualNode/a']!.backends.map((b) => b.virtualServiceName), ['svc-b']);
    files['svc-d.yaml'] = nodeService('svc-d', 'd');
    const fixed = loads.build(files);
    assert.deepEqual(fixed.result.ok && fixed.result.model.endpoints['mesh/m/virtualNode/a']!.backends.map((b) => b.virtualServiceName), ['svc-b', 'svc-d']);
  });

  it('builds in full what it does not follow: a mesh, a gateway, schema failures, many changes at once', () => {
    const loads = new Loads();
    const files = baseFiles();
    loads.build(files);
    files['mesh.yaml'] = { kind: 'Mesh', meshName: 'm', spec: { egressFilter: { type: 'ALLOW_ALL' } } };
    assert.equal(loads.build(files).kind, 'full');
    files['gateway-route-gr.yaml'] = {
      kind: 'GatewayRoute', meshName: 'm', virtualGatewayName: 'g', gatewayRouteName: 'gr',
      spec: { httpRoute: { match: { prefix: '/api' }, action: { target: { virtualService: { virtualServiceName: 'svc-d' } } } } },
    };
    assert.equal(loads.build(files).kind, 'full');
    // A schema failure is an error of the load; the model is built without the resource, in full.
    files['node-a.yaml'] = { ...node('a'), spec: { listeners: 'none' } };
    const invalid = loads.build(files);
    assert.equal(invalid.kind, 'full');
    assert.ok(!Object.keys(hashes(invalid.result)).includes('mesh/m/virtualNode/a'));
    files['node-a.yaml'] = node('a', { backends: ['svc-b', 'svc-d'] });
    for (let i = 0; i < 70; i++) files[`extra-${i}.yaml`] = node(`x${i}`);
    assert.equal(loads.build(files).kind, 'full');
  });

  it('gives what a full build gives over a long run of random edits', () => {
    // A small deterministic generator: the same edits on every run.
    let seed = 18;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const names = ['a', 'b', 'c', 'd', 'e'];
    const loads = new Loads();
    const files = baseFiles();
    files['node-e.yaml'] = node('e');
    const counts = new Map<BuildKind | undefined, number>();
    for (let step = 0; step < 150; step++) {
      const name = names[random(names.length)]!;
      switch (random(7)) {
        case 0: files[`node-${name}.yaml`] = node(name, { mode: random(2) === 0 ? 'STRICT' : 'PERMISSIVE', backends: ['svc-b', 'svc-d'].slice(0, random(3)) }); break;
        case 1: files[`node-${name}.yaml`] = node(name, { port: 8080 + random(2) }); break;
        case 2: delete files[`node-${name}.yaml`]; break;
        case 3: files['route-rt.yaml'] = route('rt', 'r', [{ virtualNode: name, weight: 1 + random(5) }, { virtualNode: names[random(names.length)]!, weight: random(3) }]); break;
        case 4: files['svc-d.yaml'] = random(2) === 0 ? nodeService('svc-d', name) : routedService('svc-d', 'r'); break;
        case 5: files['router-r.yaml'] = router('r', 8080 + random(2)); break;
        default: files['node-e.yaml'] = node('e', { backends: random(2) === 0 ? ['svc-d'] : ['svc-x'] });
      }
      const { kind } = loads.build(files);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    // Both paths are taken many times (a broken mesh stays broken for a few edits: full builds).
    assert.ok((counts.get('incremental') ?? 0) >= 40 && (counts.get('full') ?? 0) >= 40, JSON.stringify([...counts]));
  });
});
