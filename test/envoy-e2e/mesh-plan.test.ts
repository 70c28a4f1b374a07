import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Meshd } from '../../src/runtime/meshd';
import { writeComposeMesh, COMPOSE_MESH_DIR } from './compose-mesh';
import { planMesh, portsNeeded, remapPorts } from './mesh-plan';
import { allocatePorts, portIsFree } from './ports';
import { DEMO_MESH, runMeshdCli, upstreamHostOf } from './runner';
import { SpecFiles } from './spec-files';

describe('envoy-e2e/mesh-plan', function () {
  this.timeout(30_000);
  let work: string;
  beforeEach(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-plan-')); });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it('remaps every port of a spec copy to free ones, and meshd serves the remapped mesh', async () => {
    const dir = path.join(work, 'mesh');
    fs.cpSync(DEMO_MESH, dir, { recursive: true });
    const ports = await allocatePorts(portsNeeded(dir));
    assert.equal(new Set(ports).size, ports.length);
    for (const port of ports.slice(0, 3)) assert.ok(await portIsFree(port));
    const plan = remapPorts(dir, ports);
    const used = plan.flatMap((e) => [e.ingressPort, e.egressPort, e.adminPort, ...(e.appPort ? [e.appPort] : [])]);
    assert.deepEqual([...used].sort(), [...ports].sort());
    assert.equal((await runMeshdCli(['validate', dir])).code, 0);
    const meshd = await Meshd.start({ configDir: dir, xds: ['127.0.0.1:0'], sdsSocket: path.join(work, 'sds.sock'), stateDir: path.join(work, 'state'), trustDomain: 'meshd.local' });
    try {
      const front = plan.find((e) => e.name === 'front')!;
      const blue = plan.find((e) => e.name === 'color-blue')!;
      const snapshot = meshd.snapshotOf(front.nodeId)!;
      const names = [...snapshot.typeUrls()].flatMap((t) => [...snapshot.get(t)!.resources.keys()]);
      assert.ok(names.includes(`lds_ingress_127.0.0.1_${front.ingressPort}`), names.join());
      assert.ok(names.includes(`lds_egress_127.0.0.1_${front.egressPort}`), names.join());
      assert.ok(names.includes(`cds_egress_colorapp_color-blue_http_${blue.appPort}`), names.join());
      assert.ok(names.includes(`cds_ingress_colorapp_front_http_${front.appPort}`), names.join());
    } finally {
      await meshd.stop();
    }
    assert.equal(upstreamHostOf(new SpecFiles(dir), 'front'), 'color.colorapp.local:8080');
    assert.equal(upstreamHostOf(new SpecFiles(dir), 'color-blue'), undefined);
  });

  it('edits keep comments and the JSON file shape, and write files whole', () => {
    const dir = path.join(work, 'mesh');
    fs.cpSync(DEMO_MESH, dir, { recursive: true });
    const spec = new SpecFiles(dir);
    spec.edit('VirtualNode', 'front', ['spec', 'listeners', 0, 'tls', 'mode'], 'PERMISSIVE');
    spec.edit('VirtualNode', 'color-green', ['spec', 'listeners', 0, 'tls'], undefined);
    assert.deepEqual(spec.save().sort(), ['color-green.json', 'front.yaml']);
    const front = fs.readFileSync(path.join(dir, 'front.yaml'), 'utf8');
    assert.match(front, /^# The front service/);
    assert.match(front, /mode: PERMISSIVE/);
    const green = JSON.parse(fs.readFileSync(path.join(dir, 'color-green.json'), 'utf8')) as { spec: { listeners: Array<{ tls?: unknown }> } };
    assert.equal(green.spec.listeners[0]!.tls, undefined);
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.')), []);
    assert.equal(planMesh(dir).length, 4);
  });

  it('the committed compose mesh is exactly what compose-mesh.ts generates, and is valid', async () => {
    const generated = path.join(work, 'compose');
    writeComposeMesh(generated);
    const specFiles = (d: string): string[] => fs.readdirSync(d).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
    assert.deepEqual(specFiles(COMPOSE_MESH_DIR), specFiles(generated));
    for (const name of specFiles(generated)) {
      assert.equal(fs.readFileSync(path.join(COMPOSE_MESH_DIR, name), 'utf8'), fs.readFileSync(path.join(generated, name), 'utf8'), `${name} drifted: run node dist/test/envoy-e2e/compose-mesh.js`);
    }
    assert.equal((await runMeshdCli(['validate', COMPOSE_MESH_DIR])).code, 0);
    const plan = planMesh(COMPOSE_MESH_DIR);
    assert.deepEqual(plan.filter((e) => e.kind === 'virtualNode').map((e) => [e.name, e.host]).sort(), [['color-blue', 'color-blue'], ['color-green', 'color-green'], ['front', 'front']]);
  });
});
