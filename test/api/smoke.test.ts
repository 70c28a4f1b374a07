import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { CreateMeshCommand, CreateVirtualNodeCommand, DescribeVirtualNodeCommand, ListVirtualNodesCommand } from '@aws-sdk/client-app-mesh';
import { startApiHarness, nodeSpec, type ApiHarness } from './harness';

describe('api smoke', () => {
  let h: ApiHarness;
  before(async () => { h = await startApiHarness(); });
  after(async () => h.close());
  it('works', async () => {
    const c = h.client();
    const mesh = await c.send(new CreateMeshCommand({ meshName: 'app' }));
    console.log(JSON.stringify(mesh.mesh));
    const vn = await c.send(new CreateVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'front', spec: nodeSpec('front.local') as never }));
    console.log(JSON.stringify(vn.virtualNode));
    const d = await c.send(new DescribeVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'front' }));
    console.log(d.virtualNode?.metadata);
    console.log((await c.send(new ListVirtualNodesCommand({ meshName: 'app' }))).virtualNodes);
    console.log(fs.readdirSync(h.specDir), fs.readFileSync(h.specDir + '/app.virtualNode.front.json', 'utf8'));
    try { await c.send(new DescribeVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'nope' })); } catch (e) { console.log((e as Error).name, (e as Error).message, (e as {$metadata: unknown}).$metadata); }
    assert.ok(true);
  });
});
