import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MeshWatcher, type RefusedChange } from '../../src/runtime/mesh-watcher';
import type { MeshModel } from '../../src/model/types';

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

function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (predicate()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

describe('runtime/mesh-watcher', () => {
  let dir: string;
  let watcher: MeshWatcher;
  let applied: MeshModel[];
  let refused: RefusedChange[];

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
});
