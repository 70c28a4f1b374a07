import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MeshWatcher, type RefusedChange } from '../../src/runtime/mesh-watcher';
import type { MeshModel } from '../../src/model/types';
import { writeConfigMap } from '../support/configmap';
import { verifyIncrementalBuilds } from '../support/incremental-build';
import { until } from '../support/until';

const MESH = 'kind: Mesh\nmeshName: demo\nspec: {}\n';
const node = (name: string, port: number, mode = 'DISABLED'): string => `---
kind: VirtualNode
meshName: demo
virtualNodeName: ${name}
spec:
  listeners:
    - portMapping: { port: ${port}, protocol: http }
      tls: { mode: ${mode}, certificate: { sds: { secretName: default } } }
  serviceDiscovery: { dns: { hostname: 127.0.0.1 } }
`;

describe('runtime/mesh-watcher', () => {
  let dir: string;
  let watcher: MeshWatcher;
  let applied: MeshModel[];
  let refused: RefusedChange[];

  verifyIncrementalBuilds();

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-watch-'));
    applied = [];
    refused = [];
    watcher = new MeshWatcher({ dir, apply: (m) => { applied.push(m); }, refused: (r) => refused.push(r) });
  });
  afterEach(async () => {
    await watcher.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('applies the initial mesh, then a valid change within a second', async () => {
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH + node('a', 8080));
    assert.equal(await watcher.start(), true);
    assert.deepEqual(Object.keys(applied[0]!.endpoints), ['mesh/demo/virtualNode/a']);
    const started = Date.now();
    fs.writeFileSync(path.join(dir, 'b.yaml'), node('b', 8081));
    await until(() => applied.length === 2, 1000);
    assert.ok(Date.now() - started < 1000);
    assert.equal(watcher.current!.revision, 2);
    assert.deepEqual(Object.keys(applied[1]!.endpoints).sort(), ['mesh/demo/virtualNode/a', 'mesh/demo/virtualNode/b']);
  });

  it('refuses an invalid change as a whole with every error, keeps the last good mesh, and applies the fix', async () => {
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH + node('a', 8080));
    await watcher.start();
    fs.writeFileSync(path.join(dir, 'b.yaml'), node('b', 8081, 'SOMETIMES') + node('c', 99999));
    await until(() => refused.length === 1);
    assert.equal(applied.length, 1);
    assert.equal(watcher.current!.revision, 1);
    const messages = refused[0]!.errors.map((e) => `${e.file}: ${e.resource}: ${e.path}: ${e.message}`);
    assert.ok(messages.some((m) => m.startsWith('b.yaml: VirtualNode b: spec.listeners[0].tls.mode')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('b.yaml: VirtualNode c: spec.listeners[0].portMapping.port')), messages.join('\n'));
    assert.equal(watcher.lastRefused, refused[0]);
    fs.writeFileSync(path.join(dir, 'b.yaml'), node('b', 8081, 'STRICT'));
    await until(() => applied.length === 2);
    assert.equal(watcher.lastRefused, undefined);
  });

  it('reports an invalid initial load without applying anything', async () => {
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), 'kind: Mesh\nmeshName: demo\nspec: {\n');
    assert.equal(await watcher.start(), false);
    assert.equal(applied.length, 0);
    assert.match(refused[0]!.errors[0]!.message, /YAML/);
  });

  const endpointsOf = (model: MeshModel | undefined): string[] => Object.keys(model?.endpoints ?? {}).sort();

  it('recovers by itself when the directory is renamed away and back: later edits are applied', async () => {
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH + node('a', 8080));
    await watcher.start();
    fs.renameSync(dir, `${dir}.away`);
    await until(() => refused.some((r) => r.errors.some((e) => /ENOENT/.test(e.message))), 5000);
    assert.equal(watcher.current!.revision, 1, 'the last good mesh stays');
    assert.equal(watcher.unreadable, 'cannot read spec directory: ENOENT', 'readiness can tell the specs are unreadable');
    fs.renameSync(`${dir}.away`, dir);
    await until(() => watcher.lastRefused === undefined, 5000);
    assert.equal(watcher.unreadable, undefined);
    fs.writeFileSync(path.join(dir, 'b.yaml'), node('b', 8081));
    await until(() => endpointsOf(watcher.current?.model).length === 2, 5000);
    assert.deepEqual(endpointsOf(watcher.current?.model), ['mesh/demo/virtualNode/a', 'mesh/demo/virtualNode/b']);
  });

  it('follows a directory replaced by another one, as deploy tools do', async () => {
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH + node('a', 8080));
    await watcher.start();
    const next = `${dir}.next`;
    fs.mkdirSync(next);
    fs.writeFileSync(path.join(next, 'mesh.yaml'), MESH + node('c', 8082));
    fs.renameSync(dir, `${dir}.old`);
    fs.renameSync(next, dir);
    fs.rmSync(`${dir}.old`, { recursive: true });
    await until(() => endpointsOf(watcher.current?.model).includes('mesh/demo/virtualNode/c'), 5000);
    fs.writeFileSync(path.join(dir, 'd.yaml'), node('d', 8083));
    await until(() => endpointsOf(watcher.current?.model).includes('mesh/demo/virtualNode/d'), 5000);
  });

  it('follows a symlinked directory re-pointed to another release', async () => {
    for (const [release, name] of [['v1', 'a'], ['v2', 'b']] as const) {
      fs.mkdirSync(path.join(dir, release));
      fs.writeFileSync(path.join(dir, release, 'mesh.yaml'), MESH + node(name, 8080));
    }
    const current = path.join(dir, 'current');
    fs.symlinkSync('v1', current);
    const linked = new MeshWatcher({ dir: current, apply: () => undefined });
    try {
      assert.equal(await linked.start(), true);
      assert.deepEqual(endpointsOf(linked.current?.model), ['mesh/demo/virtualNode/a']);
      fs.symlinkSync('v2', `${current}.next`);
      fs.renameSync(`${current}.next`, current);
      await until(() => endpointsOf(linked.current?.model).join() === 'mesh/demo/virtualNode/b', 5000);
    } finally {
      await linked.close();
    }
  });

  it('applies each atomic ..data swap of a Kubernetes ConfigMap volume', async () => {
    writeConfigMap(dir, { 'mesh.yaml': MESH + node('a', 8080) });
    assert.equal(await watcher.start(), true);
    assert.deepEqual(endpointsOf(watcher.current?.model), ['mesh/demo/virtualNode/a']);
    writeConfigMap(dir, { 'mesh.yaml': MESH + node('a', 8080) + node('b', 8081) });
    await until(() => endpointsOf(watcher.current?.model).length === 2, 5000);
    writeConfigMap(dir, { 'mesh.yaml': MESH, 'nodes.yaml': node('c', 8082) });
    await until(() => endpointsOf(watcher.current?.model).join() === 'mesh/demo/virtualNode/c', 5000);
  });

  it('applies edits, new files and deletes one file at a time, each built from the last', async () => {
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH);
    fs.writeFileSync(path.join(dir, 'a.yaml'), node('a', 8080));
    await watcher.start();
    fs.writeFileSync(path.join(dir, 'b.yaml'), node('b', 8081));
    await until(() => endpointsOf(watcher.current?.model).length === 2);
    const hashOfA = watcher.current!.model.endpoints['mesh/demo/virtualNode/a']!.hash;
    fs.writeFileSync(path.join(dir, 'a.yaml'), node('a', 8080, 'STRICT'));
    await until(() => watcher.current!.model.endpoints['mesh/demo/virtualNode/a']!.hash !== hashOfA);
    fs.rmSync(path.join(dir, 'b.yaml'));
    await until(() => endpointsOf(watcher.current?.model).join() === 'mesh/demo/virtualNode/a');
    assert.equal(watcher.current!.model.endpoints['mesh/demo/virtualNode/a']!.listeners[0]!.tls!.mode, 'STRICT');
  });

  it('follows a symlinked spec file whose target is edited elsewhere', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-watch-target-'));
    try {
      fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH);
      fs.writeFileSync(path.join(elsewhere, 'a.yaml'), node('a', 8080));
      fs.symlinkSync(path.join(elsewhere, 'a.yaml'), path.join(dir, 'a.yaml'));
      await watcher.start();
      fs.appendFileSync(path.join(elsewhere, 'a.yaml'), node('b', 8081));
      await until(() => endpointsOf(watcher.current?.model).length === 2);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('finds a change its watch did not see (made through a hard link elsewhere) at the next audit', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-watch-link-'));
    const audited = new MeshWatcher({ dir, auditMs: 100, apply: (m) => { applied.push(m); } });
    try {
      fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH + node('a', 8080));
      fs.linkSync(path.join(dir, 'mesh.yaml'), path.join(elsewhere, 'mesh.yaml'));
      await audited.start();
      fs.appendFileSync(path.join(elsewhere, 'mesh.yaml'), node('b', 8081));
      await until(() => endpointsOf(audited.current?.model).length === 2);
    } finally {
      await audited.close();
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('refuses an alias bomb like any invalid change and keeps watching', async () => {
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH + node('a', 8080));
    await watcher.start();
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let level = 1; level < 9; level += 1) {
      const previous = String.fromCharCode(96 + level);
      levels.push(`${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    }
    fs.writeFileSync(path.join(dir, 'bomb.yaml'), `${levels.join('\n')}\n`);
    await until(() => refused.length === 1);
    assert.match(refused[0]!.errors.map((e) => `${e.file}: ${e.message}`).join('\n'), /^bomb\.yaml: expands YAML aliases/m);
    assert.equal(watcher.current!.revision, 1);
    fs.rmSync(path.join(dir, 'bomb.yaml'));
    fs.writeFileSync(path.join(dir, 'b.yaml'), node('b', 8081));
    await until(() => endpointsOf(watcher.current?.model).length === 2);
  });
});
