import { strict as assert } from 'node:assert';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { diffModels, loadMesh } from '../../src/model/load-mesh';
import { formatErrors } from '../../src/spec/errors';
import type { MeshModel } from '../../src/model/types';

const colorapp = path.join(__dirname, '..', '..', '..', 'examples', 'colorapp');
const spiffe = (kind: string, name: string): string => `spiffe://meshd.local/mesh/colorapp/${kind}/${name}`;

async function loadColorapp(dir = colorapp): Promise<MeshModel> {
  const result = await loadMesh(dir);
  if (!result.ok) assert.fail(`colorapp does not validate:\n${formatErrors(result.errors)}`);
  return result.model;
}

describe('model/load-mesh', () => {
  describe('the colorapp example', () => {
    it('validates cleanly and has the gateway, front and both color versions', async () => {
      const model = await loadColorapp();
      assert.deepEqual(Object.keys(model.endpoints), [
        'mesh/colorapp/virtualGateway/gateway',
        'mesh/colorapp/virtualNode/color-blue',
        'mesh/colorapp/virtualNode/color-green',
        'mesh/colorapp/virtualNode/front',
      ]);
    });

    it('resolves front → color.colorapp.local → router → blue and green with their listeners and TLS modes', async () => {
      const front = (await loadColorapp()).endpoints['mesh/colorapp/virtualNode/front']!;
      assert.equal(front.backends.length, 1);
      const color = front.backends[0]!;
      assert.equal(color.virtualServiceName, 'color.colorapp.local');
      assert.equal(color.provider.kind, 'virtualRouter');
      if (color.provider.kind !== 'virtualRouter') return;
      assert.equal(color.provider.virtualRouterName, 'color-router');
      assert.deepEqual(color.provider.routes.map((r) => [r.name, r.protocol, r.weightedTargets.map((t) => [t.nodeId, t.weight])]), [
        ['color-route', 'http', [['mesh/colorapp/virtualNode/color-blue', 80], ['mesh/colorapp/virtualNode/color-green', 20]]],
      ]);
      assert.deepEqual(color.targets.map((t) => ({
        name: t.name, hostname: t.serviceDiscovery?.hostname, port: t.listeners[0]!.port, mode: t.listeners[0]!.tls?.mode,
        mtls: t.listeners[0]!.tls?.validation !== undefined, ingressPort: t.meshd.ingressPort,
      })), [
        { name: 'color-blue', hostname: '127.0.0.1', port: 8081, mode: 'STRICT', mtls: true, ingressPort: 15200 },
        { name: 'color-green', hostname: '127.0.0.1', port: 8082, mode: 'PERMISSIVE', mtls: true, ingressPort: 15300 },
      ]);
    });

    it('gives front its per-backend client policy, overriding its defaults', async () => {
      const front = (await loadColorapp()).endpoints['mesh/colorapp/virtualNode/front']!;
      const color = front.backends[0]!;
      assert.equal(color.clientPolicySource, 'backend');
      assert.deepEqual(color.clientPolicy, {
        enforce: true,
        ports: [],
        certificate: { kind: 'sds', secretName: 'default', provision: { kind: 'endpoint-certificate' }, issuedByMeshCa: true },
        validation: {
          trust: { kind: 'sds', secretName: 'ROOTCA', provision: { kind: 'ca-bundle' } },
          subjectAlternativeNames: [spiffe('virtualNode', 'color-blue'), spiffe('virtualNode', 'color-green')],
        },
      });
      assert.equal(front.backendDefaults?.validation.trust.kind, 'acm');
      assert.notDeepEqual(color.clientPolicy, front.backendDefaults);
    });

    it('gives the gateway its default client policy for the service its route targets', async () => {
      const gateway = (await loadColorapp()).endpoints['mesh/colorapp/virtualGateway/gateway']!;
      assert.equal(gateway.kind, 'virtualGateway');
      assert.deepEqual(gateway.gatewayRoutes.map((r) => [r.name, r.protocol, r.virtualServiceName]), [['gateway-to-front', 'http', 'front.colorapp.local']]);
      const [front] = gateway.backends;
      assert.equal(front!.virtualServiceName, 'front.colorapp.local');
      assert.equal(front!.clientPolicySource, 'defaults');
      assert.deepEqual(front!.clientPolicy?.validation.subjectAlternativeNames, [spiffe('virtualNode', 'front')]);
      assert.deepEqual(front!.targets.map((t) => [t.id, t.listeners[0]!.tls?.mode]), [['mesh/colorapp/virtualNode/front', 'STRICT']]);
      assert.equal(gateway.listeners[0]!.tls?.certificate.kind, 'acm');
      assert.equal(gateway.listeners[0]!.tls?.certificate.secretName, spiffe('virtualGateway', 'gateway'));
    });

    it('has STRICT mutual TLS on every node but the PERMISSIVE one being migrated', async () => {
      const model = await loadColorapp();
      const modes = Object.values(model.endpoints).filter((e) => e.kind === 'virtualNode')
        .map((e) => [e.name, e.listeners.map((l) => [l.tls?.mode, l.tls?.validation !== undefined])]);
      assert.deepEqual(modes, [
        ['color-blue', [['STRICT', true]]],
        ['color-green', [['PERMISSIVE', true]]],
        ['front', [['STRICT', true]]],
      ]);
    });

    it('gives every endpoint distinct proxy ports and every application its own port, for one host', async () => {
      const endpoints = Object.values((await loadColorapp()).endpoints);
      const proxyPorts = endpoints.flatMap((e) => [e.meshd.ingressPort, e.meshd.egressPort, e.meshd.adminPort]);
      const appPorts = endpoints.filter((e) => e.kind === 'virtualNode').flatMap((e) => e.listeners.map((l) => l.port));
      const all = [...proxyPorts, ...appPorts];
      assert.equal(new Set(all).size, all.length);
    });

    it('is frozen', async () => {
      const model = await loadColorapp();
      const front = model.endpoints['mesh/colorapp/virtualNode/front']!;
      assert.throws(() => { (front.meshd as { ingressPort: number }).ingressPort = 1; }, TypeError);
      assert.throws(() => { (front.backends as unknown[]).push(1); }, TypeError);
    });
  });

  describe('content hashes', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'meshd-model-'));
      await cp(colorapp, dir, { recursive: true });
    });
    afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

    it('are stable across loads and change only for endpoints whose inputs changed', async () => {
      const before = await loadColorapp(dir);
      assert.deepEqual(diffModels(before, await loadColorapp(dir)), { added: [], removed: [], changed: [] });

      // green's listener changes: green itself, and front (its client) whose upstream depends on it.
      const green = path.join(dir, 'color-green.json');
      await writeFile(green, (await readFile(green, 'utf8')).replace('PERMISSIVE', 'STRICT'));
      const after = await loadColorapp(dir);
      assert.deepEqual(diffModels(before, after), {
        added: [], removed: [], changed: ['mesh/colorapp/virtualNode/color-green', 'mesh/colorapp/virtualNode/front'],
      });
      assert.deepEqual(diffModels(undefined, after).added, Object.keys(after.endpoints));
    });
  });

  it('reports load errors and model errors together', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshd-model-'));
    try {
      await writeFile(path.join(dir, 'mesh.yaml'), 'kind: Mesh\nmeshName: m\n');
      await writeFile(path.join(dir, 'nodes.yaml'), [
        'kind: VirtualNode\nmeshName: m\nvirtualNodeName: colorteller\nspec:\n  listeners:\n    - portMapping: { port: 80, protocol: http }\n      tls: { mode: MAYBE, certificate: { sds: { secretName: default } } }\n',
        'kind: VirtualNode\nmeshName: m\nvirtualNodeName: front\nspec:\n  backends:\n    - virtualService: { virtualServiceName: colorteller.m.local }\n    - virtualService: { virtualServiceName: missing.m.local }\n',
        'kind: VirtualService\nmeshName: m\nvirtualServiceName: colorteller.m.local\nspec: { provider: { virtualNode: { virtualNodeName: colorteller } } }\n',
      ].join('---\n'));
      const result = await loadMesh(dir, { trustDomain: 'example.org' });
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.deepEqual(formatErrors(result.errors).split('\n'), [
        'nodes.yaml: VirtualNode colorteller: spec.listeners[0].tls.mode: must be STRICT, PERMISSIVE or DISABLED',
        'nodes.yaml: VirtualNode front: spec.backends[1].virtualService.virtualServiceName: virtual service "missing.m.local" does not exist in mesh "m"',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
