// Every App Mesh operation through the real SDK against the real server over HTTP, with what it
// leaves in the spec directory.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as AppMesh from '@aws-sdk/client-app-mesh';
import { ApiHandlers } from '../../src/api/handlers';
import { DirectoryStore, type ExpectedRevision } from '../../src/store';
import { ACCOUNT, REGION, nodeSpec, startApiHarness, type ApiHarness } from './harness';

const routeSpec = (weights: Record<string, number>): AppMesh.RouteSpec => ({
  httpRoute: {
    match: { prefix: '/' },
    action: { weightedTargets: Object.entries(weights).map(([virtualNode, weight]) => ({ virtualNode, weight })) },
  },
});

async function rejects(promise: Promise<unknown>, name: string, message?: RegExp): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    const error = err as Error & { $metadata?: { httpStatusCode?: number } };
    assert.equal(error.name, name, `${error.name}: ${error.message}`);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${name}`);
}

function files(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((name) => [name, fs.readFileSync(path.join(dir, name), 'utf8')]));
}

describe('api/handlers (all 38 operations with @aws-sdk/client-app-mesh)', function () {
  this.timeout(30_000);
  let h: ApiHarness;
  let client: AppMesh.AppMeshClient;

  beforeEach(async () => {
    h = await startApiHarness();
    client = h.client();
  });
  afterEach(async () => h.close());

  async function buildMesh(): Promise<void> {
    await client.send(new AppMesh.CreateMeshCommand({ meshName: 'app', spec: { egressFilter: { type: 'DROP_ALL' } } }));
    await client.send(new AppMesh.CreateVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'blue', spec: nodeSpec('blue.app.local') }));
    await client.send(new AppMesh.CreateVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'green', spec: nodeSpec('green.app.local') }));
    await client.send(new AppMesh.CreateVirtualRouterCommand({ meshName: 'app', virtualRouterName: 'color', spec: { listeners: [{ portMapping: { port: 8080, protocol: 'http' } }] } }));
    await client.send(new AppMesh.CreateRouteCommand({ meshName: 'app', virtualRouterName: 'color', routeName: 'split', spec: routeSpec({ blue: 1 }) }));
    await client.send(new AppMesh.CreateVirtualServiceCommand({ meshName: 'app', virtualServiceName: 'color.app.local', spec: { provider: { virtualRouter: { virtualRouterName: 'color' } } } }));
    await client.send(new AppMesh.CreateVirtualGatewayCommand({ meshName: 'app', virtualGatewayName: 'gw', spec: { listeners: [{ portMapping: { port: 9080, protocol: 'http' } }] } }));
    await client.send(new AppMesh.CreateGatewayRouteCommand({
      meshName: 'app', virtualGatewayName: 'gw', gatewayRouteName: 'to-color',
      spec: { httpRoute: { match: { prefix: '/' }, action: { target: { virtualService: { virtualServiceName: 'color.app.local' } } } } },
    }));
  }

  it('creates each kind as one file in describe-* form, answered with App Mesh metadata', async () => {
    const before = Date.now();
    await buildMesh();
    assert.deepEqual(Object.keys(files(h.specDir)), [
      'app.mesh.json', 'app.virtualGateway.gw.gatewayRoute.to-color.json', 'app.virtualGateway.gw.json',
      'app.virtualNode.blue.json', 'app.virtualNode.green.json', 'app.virtualRouter.color.json',
      'app.virtualRouter.color.route.split.json', 'app.virtualService.color%2Eapp%2Elocal.json',
    ]);
    const node = (await client.send(new AppMesh.DescribeVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'blue' }))).virtualNode!;
    assert.equal(node.meshName, 'app');
    assert.equal(node.virtualNodeName, 'blue');
    assert.deepEqual(node.spec, nodeSpec('blue.app.local'));
    assert.deepEqual(node.status, { status: 'ACTIVE' });
    assert.equal(node.metadata!.arn, `arn:aws:appmesh:${REGION}:${ACCOUNT}:mesh/app/virtualNode/blue`);
    assert.equal(node.metadata!.version, 1);
    assert.equal(node.metadata!.meshOwner, ACCOUNT);
    assert.equal(node.metadata!.resourceOwner, ACCOUNT);
    assert.match(node.metadata!.uid!, /^[0-9a-f-]{36}$/);
    assert.ok(node.metadata!.createdAt instanceof Date && node.metadata!.createdAt.getTime() >= before - 1000);
    const stored = JSON.parse(files(h.specDir)['app.virtualNode.blue.json']!) as { virtualNode: { metadata: { uid: string } } };
    assert.equal(stored.virtualNode.metadata.uid, node.metadata!.uid, 'the file is what describe-virtual-node prints');
  });

  it('describes every kind, with ARNs of the configured region and account', async () => {
    await buildMesh();
    const arn = `arn:aws:appmesh:${REGION}:${ACCOUNT}:mesh/app`;
    const described = [
      (await client.send(new AppMesh.DescribeMeshCommand({ meshName: 'app' }))).mesh!,
      (await client.send(new AppMesh.DescribeVirtualRouterCommand({ meshName: 'app', virtualRouterName: 'color' }))).virtualRouter!,
      (await client.send(new AppMesh.DescribeRouteCommand({ meshName: 'app', virtualRouterName: 'color', routeName: 'split' }))).route!,
      (await client.send(new AppMesh.DescribeVirtualServiceCommand({ meshName: 'app', virtualServiceName: 'color.app.local' }))).virtualService!,
      (await client.send(new AppMesh.DescribeVirtualGatewayCommand({ meshName: 'app', virtualGatewayName: 'gw' }))).virtualGateway!,
      (await client.send(new AppMesh.DescribeGatewayRouteCommand({ meshName: 'app', virtualGatewayName: 'gw', gatewayRouteName: 'to-color' }))).gatewayRoute!,
    ];
    assert.deepEqual(described.map((d) => d.metadata!.arn), [
      arn, `${arn}/virtualRouter/color`, `${arn}/virtualRouter/color/route/split`, `${arn}/virtualService/color.app.local`,
      `${arn}/virtualGateway/gw`, `${arn}/virtualGateway/gw/gatewayRoute/to-color`,
    ]);
    assert.deepEqual(described[0]!.spec, { egressFilter: { type: 'DROP_ALL' } });
    assert.deepEqual((described[2] as AppMesh.RouteData).spec, routeSpec({ blue: 1 }));
  });

  it('updates every kind: the spec is replaced and the version goes up by one each time', async () => {
    await buildMesh();
    const mesh = (await client.send(new AppMesh.UpdateMeshCommand({ meshName: 'app', spec: { egressFilter: { type: 'ALLOW_ALL' } } }))).mesh!;
    assert.equal(mesh.metadata!.version, 2);
    const node = (await client.send(new AppMesh.UpdateVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'green', spec: nodeSpec('green2.app.local') }))).virtualNode!;
    assert.equal(node.metadata!.version, 2);
    assert.ok(node.metadata!.lastUpdatedAt! >= node.metadata!.createdAt!);
    const route1 = (await client.send(new AppMesh.UpdateRouteCommand({ meshName: 'app', virtualRouterName: 'color', routeName: 'split', spec: routeSpec({ blue: 1, green: 1 }) }))).route!;
    const route2 = (await client.send(new AppMesh.UpdateRouteCommand({ meshName: 'app', virtualRouterName: 'color', routeName: 'split', spec: routeSpec({ blue: 0, green: 1 }) }))).route!;
    assert.deepEqual([route1.metadata!.version, route2.metadata!.version], [2, 3]);
    assert.equal(route2.metadata!.uid, route1.metadata!.uid);
    const others = [
      (await client.send(new AppMesh.UpdateVirtualRouterCommand({ meshName: 'app', virtualRouterName: 'color', spec: { listeners: [{ portMapping: { port: 8081, protocol: 'http' } }] } }))).virtualRouter!,
      (await client.send(new AppMesh.UpdateVirtualServiceCommand({ meshName: 'app', virtualServiceName: 'color.app.local', spec: { provider: { virtualNode: { virtualNodeName: 'blue' } } } }))).virtualService!,
      (await client.send(new AppMesh.UpdateVirtualGatewayCommand({ meshName: 'app', virtualGatewayName: 'gw', spec: { listeners: [{ portMapping: { port: 9081, protocol: 'http' } }] } }))).virtualGateway!,
      (await client.send(new AppMesh.UpdateGatewayRouteCommand({
        meshName: 'app', virtualGatewayName: 'gw', gatewayRouteName: 'to-color',
        spec: { httpRoute: { match: { prefix: '/color' }, action: { target: { virtualService: { virtualServiceName: 'color.app.local' } } } } },
      }))).gatewayRoute!,
    ];
    assert.deepEqual(others.map((o) => o.metadata!.version), [2, 2, 2, 2]);
    const described = (await client.send(new AppMesh.DescribeRouteCommand({ meshName: 'app', virtualRouterName: 'color', routeName: 'split' }))).route!;
    assert.deepEqual(described.spec, routeSpec({ blue: 0, green: 1 }));
    assert.match(files(h.specDir)['app.virtualRouter.color.route.split.json']!, /"version": 3/);
  });

  it('lists every kind as App Mesh refs', async () => {
    await buildMesh();
    const meshes = (await client.send(new AppMesh.ListMeshesCommand({}))).meshes!;
    assert.deepEqual(meshes.map((m) => [m.meshName, m.arn, m.version, m.meshOwner]), [['app', `arn:aws:appmesh:${REGION}:${ACCOUNT}:mesh/app`, 1, ACCOUNT]]);
    const nodes = (await client.send(new AppMesh.ListVirtualNodesCommand({ meshName: 'app' }))).virtualNodes!;
    assert.deepEqual(nodes.map((n) => n.virtualNodeName), ['blue', 'green']);
    assert.ok(nodes[0]!.createdAt instanceof Date);
    assert.deepEqual((await client.send(new AppMesh.ListVirtualRoutersCommand({ meshName: 'app' }))).virtualRouters!.map((r) => r.virtualRouterName), ['color']);
    const routes = (await client.send(new AppMesh.ListRoutesCommand({ meshName: 'app', virtualRouterName: 'color' }))).routes!;
    assert.deepEqual(routes.map((r) => [r.virtualRouterName, r.routeName]), [['color', 'split']]);
    assert.deepEqual((await client.send(new AppMesh.ListVirtualServicesCommand({ meshName: 'app' }))).virtualServices!.map((s) => s.virtualServiceName), ['color.app.local']);
    assert.deepEqual((await client.send(new AppMesh.ListVirtualGatewaysCommand({ meshName: 'app' }))).virtualGateways!.map((g) => g.virtualGatewayName), ['gw']);
    const gatewayRoutes = (await client.send(new AppMesh.ListGatewayRoutesCommand({ meshName: 'app', virtualGatewayName: 'gw' }))).gatewayRoutes!;
    assert.deepEqual(gatewayRoutes.map((r) => [r.virtualGatewayName, r.gatewayRouteName]), [['gw', 'to-color']]);
    await rejects(client.send(new AppMesh.ListVirtualNodesCommand({ meshName: 'nope' })), 'NotFoundException', /Mesh nope not found/);
  });

  it('pages lists with limit and nextToken, and refuses a token it did not issue', async () => {
    await client.send(new AppMesh.CreateMeshCommand({ meshName: 'app' }));
    for (let i = 0; i < 7; i += 1) {
      await client.send(new AppMesh.CreateVirtualNodeCommand({ meshName: 'app', virtualNodeName: `n${i}`, spec: { serviceDiscovery: { dns: { hostname: `n${i}.local` } } } }));
    }
    const first = await client.send(new AppMesh.ListVirtualNodesCommand({ meshName: 'app', limit: 3 }));
    assert.deepEqual(first.virtualNodes!.map((n) => n.virtualNodeName), ['n0', 'n1', 'n2']);
    assert.ok(first.nextToken);
    const pages: string[][] = [];
    for await (const page of AppMesh.paginateListVirtualNodes({ client, pageSize: 3 }, { meshName: 'app' })) pages.push(page.virtualNodes!.map((n) => n.virtualNodeName!));
    assert.deepEqual(pages, [['n0', 'n1', 'n2'], ['n3', 'n4', 'n5'], ['n6']]);
    const last = await client.send(new AppMesh.ListVirtualNodesCommand({ meshName: 'app', limit: 100 }));
    assert.equal(last.virtualNodes!.length, 7);
    assert.equal(last.nextToken, undefined);
    await rejects(client.send(new AppMesh.ListVirtualNodesCommand({ meshName: 'app', nextToken: 'garbage' })), 'BadRequestException', /nextToken/);
    await rejects(client.send(new AppMesh.ListVirtualNodesCommand({ meshName: 'app', limit: 101 })), 'BadRequestException', /limit/);
  });

  it('tags, lists tags (paged) and untags a resource by ARN', async () => {
    await buildMesh();
    const arn = `arn:aws:appmesh:${REGION}:${ACCOUNT}:mesh/app/virtualRouter/color/route/split`;
    await client.send(new AppMesh.TagResourceCommand({ resourceArn: arn, tags: [{ key: 'team', value: 'color' }, { key: 'tier', value: 'web' }] }));
    let tags = (await client.send(new AppMesh.ListTagsForResourceCommand({ resourceArn: arn }))).tags!;
    assert.deepEqual(tags, [{ key: 'team', value: 'color' }, { key: 'tier', value: 'web' }]);
    const page = await client.send(new AppMesh.ListTagsForResourceCommand({ resourceArn: arn, limit: 1 }));
    assert.deepEqual(page.tags, [{ key: 'team', value: 'color' }]);
    assert.deepEqual((await client.send(new AppMesh.ListTagsForResourceCommand({ resourceArn: arn, nextToken: page.nextToken! }))).tags, [{ key: 'tier', value: 'web' }]);
    await client.send(new AppMesh.UntagResourceCommand({ resourceArn: arn, tagKeys: ['team'] }));
    tags = (await client.send(new AppMesh.ListTagsForResourceCommand({ resourceArn: arn }))).tags!;
    assert.deepEqual(tags, [{ key: 'tier', value: 'web' }]);
    const route = (await client.send(new AppMesh.DescribeRouteCommand({ meshName: 'app', virtualRouterName: 'color', routeName: 'split' }))).route!;
    assert.equal(route.metadata!.version, 1, 'tags do not change the version');
    const created = `arn:aws:appmesh:${REGION}:${ACCOUNT}:mesh/app/virtualNode/tagged`;
    await client.send(new AppMesh.CreateVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'tagged', spec: nodeSpec('t.local'), tags: [{ key: 'a', value: 'b' }] }));
    assert.deepEqual((await client.send(new AppMesh.ListTagsForResourceCommand({ resourceArn: created }))).tags, [{ key: 'a', value: 'b' }]);
    const many = Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    await rejects(client.send(new AppMesh.TagResourceCommand({ resourceArn: arn, tags: many })), 'TooManyTagsException');
    await rejects(client.send(new AppMesh.ListTagsForResourceCommand({ resourceArn: `arn:aws:appmesh:${REGION}:${ACCOUNT}:mesh/app/virtualNode/none` })), 'NotFoundException');
    await rejects(client.send(new AppMesh.ListTagsForResourceCommand({ resourceArn: 'arn:aws:s3:::bucket' })), 'BadRequestException', /not an App Mesh ARN/);
  });

  it('deletes every kind, refusing with ResourceInUseException while others still use it', async () => {
    await buildMesh();
    await rejects(client.send(new AppMesh.DeleteMeshCommand({ meshName: 'app' })), 'ResourceInUseException', /Mesh app is still in use/);
    const inUse = await rejects(client.send(new AppMesh.DeleteVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'blue' })), 'ResourceInUseException', /Route split of VirtualRouter color/);
    assert.equal(inUse.$metadata?.httpStatusCode, 409);
    await rejects(client.send(new AppMesh.DeleteVirtualRouterCommand({ meshName: 'app', virtualRouterName: 'color' })), 'ResourceInUseException');
    await rejects(client.send(new AppMesh.DeleteVirtualServiceCommand({ meshName: 'app', virtualServiceName: 'color.app.local' })), 'ResourceInUseException', /GatewayRoute to-color/);
    await rejects(client.send(new AppMesh.DeleteVirtualGatewayCommand({ meshName: 'app', virtualGatewayName: 'gw' })), 'ResourceInUseException');
    const unchanged = files(h.specDir);
    const gatewayRoute = (await client.send(new AppMesh.DeleteGatewayRouteCommand({ meshName: 'app', virtualGatewayName: 'gw', gatewayRouteName: 'to-color' }))).gatewayRoute!;
    assert.deepEqual(gatewayRoute.status, { status: 'DELETED' });
    assert.equal(Object.keys(files(h.specDir)).length, Object.keys(unchanged).length - 1);
    await client.send(new AppMesh.DeleteVirtualGatewayCommand({ meshName: 'app', virtualGatewayName: 'gw' }));
    await client.send(new AppMesh.DeleteVirtualServiceCommand({ meshName: 'app', virtualServiceName: 'color.app.local' }));
    await client.send(new AppMesh.DeleteRouteCommand({ meshName: 'app', virtualRouterName: 'color', routeName: 'split' }));
    await client.send(new AppMesh.DeleteVirtualRouterCommand({ meshName: 'app', virtualRouterName: 'color' }));
    await client.send(new AppMesh.DeleteVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'blue' }));
    const green = (await client.send(new AppMesh.DeleteVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'green' }))).virtualNode!;
    assert.equal(green.virtualNodeName, 'green');
    const mesh = (await client.send(new AppMesh.DeleteMeshCommand({ meshName: 'app' }))).mesh!;
    assert.deepEqual(mesh.status, { status: 'DELETED' });
    assert.deepEqual(files(h.specDir), {});
    await rejects(client.send(new AppMesh.DescribeMeshCommand({ meshName: 'app' })), 'NotFoundException');
  });

  it('answers NotFound, Conflict and BadRequest as App Mesh does, and persists nothing when refusing', async () => {
    await rejects(client.send(new AppMesh.CreateVirtualNodeCommand({ meshName: 'nomesh', virtualNodeName: 'n', spec: nodeSpec('n.local') })), 'NotFoundException', /Mesh nomesh not found/);
    await buildMesh();
    const before = files(h.specDir);
    const conflict = await rejects(client.send(new AppMesh.CreateVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'blue', spec: nodeSpec('x.local') })), 'ConflictException', /VirtualNode blue in mesh app already exists/);
    assert.equal(conflict.$metadata?.httpStatusCode, 409);
    await rejects(client.send(new AppMesh.CreateRouteCommand({ meshName: 'app', virtualRouterName: 'nope', routeName: 'r', spec: routeSpec({ blue: 1 }) })), 'NotFoundException', /VirtualRouter nope/);
    const bad = await rejects(client.send(new AppMesh.UpdateVirtualNodeCommand({
      meshName: 'app', virtualNodeName: 'blue',
      spec: { ...nodeSpec('blue.app.local'), listeners: [{ portMapping: { port: 8080, protocol: 'http' }, tls: { mode: 'SOMETIMES' as 'STRICT', certificate: { sds: { secretName: 'default' } } } }] },
    })), 'BadRequestException', /VirtualNode blue: spec\.listeners\[0\]\.tls\.mode: must be STRICT, PERMISSIVE or DISABLED/);
    assert.equal(bad.$metadata?.httpStatusCode, 400);
    await rejects(client.send(new AppMesh.UpdateRouteCommand({ meshName: 'app', virtualRouterName: 'color', routeName: 'split', spec: routeSpec({ purple: 1 }) })),
      'BadRequestException', /Route split: spec\.httpRoute\.action\.weightedTargets\[0\]\.virtualNode/);
    await rejects(client.send(new AppMesh.CreateVirtualServiceCommand({ meshName: 'app', virtualServiceName: 's.local', spec: { provider: { virtualNode: { virtualNodeName: 'ghost' } } } })),
      'BadRequestException', /VirtualService s\.local: spec\.provider/);
    await rejects(client.send(new AppMesh.DescribeVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'ghost' })), 'NotFoundException', /VirtualNode ghost in mesh app not found/);
    assert.deepEqual(files(h.specDir), before, 'nothing was written');
  });

  it('answers ServiceUnavailableException (503) while the store cannot be read, and recovers', async () => {
    await client.send(new AppMesh.CreateMeshCommand({ meshName: 'app' }));
    const aside = `${h.specDir}.aside`;
    fs.renameSync(h.specDir, aside);
    const error = await rejects(client.send(new AppMesh.ListMeshesCommand({})), 'ServiceUnavailableException', /the mesh store .* cannot be read/);
    assert.equal(error.$metadata?.httpStatusCode, 503);
    fs.renameSync(aside, h.specDir);
    assert.deepEqual((await client.send(new AppMesh.ListMeshesCommand({}))).meshes!.map((m) => m.meshName), ['app']);
  });

  it('makes a create idempotent by clientToken, and refuses a token reused for another request', async () => {
    await client.send(new AppMesh.CreateMeshCommand({ meshName: 'app' }));
    const input = { meshName: 'app', virtualNodeName: 'n', spec: nodeSpec('n.local'), clientToken: 'token-1' };
    const first = (await client.send(new AppMesh.CreateVirtualNodeCommand(input))).virtualNode!;
    const again = (await client.send(new AppMesh.CreateVirtualNodeCommand(input))).virtualNode!;
    assert.equal(again.metadata!.uid, first.metadata!.uid);
    assert.equal(again.metadata!.version, 1);
    await rejects(client.send(new AppMesh.CreateVirtualNodeCommand({ ...input, spec: nodeSpec('other.local') })), 'ConflictException', /clientToken token-1/);
    await rejects(client.send(new AppMesh.CreateVirtualNodeCommand({ ...input, clientToken: 'token-2' })), 'ConflictException', /already exists/);
  });

  it("sets meshd's own settings (the meshd: block) from meshd:* tags, validated like the rest", async () => {
    await client.send(new AppMesh.CreateMeshCommand({ meshName: 'app' }));
    await rejects(client.send(new AppMesh.CreateVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'p', spec: nodeSpec('p.local'), tags: [{ key: 'meshd:ingressPort', value: 'high' }] })),
      'BadRequestException', /VirtualNode p: meshd\.ingressPort/);
    await client.send(new AppMesh.CreateVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'p', spec: nodeSpec('p.local'), tags: [{ key: 'meshd:proxyless', value: 'true' }] }));
    const arn = `arn:aws:appmesh:${REGION}:${ACCOUNT}:mesh/app/virtualNode/p`;
    await client.send(new AppMesh.TagResourceCommand({ resourceArn: arn, tags: [{ key: 'meshd:address', value: '127.0.0.1' }] }));
    const stored = (): unknown => (JSON.parse(files(h.specDir)['app.virtualNode.p.json']!) as { virtualNode: { meshd?: unknown } }).virtualNode.meshd;
    assert.deepEqual(stored(), { proxyless: true, address: '127.0.0.1' });
    await client.send(new AppMesh.UpdateVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'p', spec: nodeSpec('p2.local') }));
    assert.deepEqual(stored(), { proxyless: true, address: '127.0.0.1' }, 'an update of the spec keeps them');
    await client.send(new AppMesh.UntagResourceCommand({ resourceArn: arn, tagKeys: ['meshd:proxyless'] }));
    assert.deepEqual(stored(), { address: '127.0.0.1' });
  });

  it('never loses an update among concurrent writers', async () => {
    await buildMesh();
    const results = await Promise.all([1, 2, 3, 4, 5].map((weight) =>
      client.send(new AppMesh.UpdateRouteCommand({ meshName: 'app', virtualRouterName: 'color', routeName: 'split', spec: routeSpec({ blue: weight }) }))));
    assert.deepEqual(results.map((r) => r.route!.metadata!.version).sort(), [2, 3, 4, 5, 6]);
    const final = (await client.send(new AppMesh.DescribeRouteCommand({ meshName: 'app', virtualRouterName: 'color', routeName: 'split' }))).route!;
    assert.equal(final.metadata!.version, 6);
  });

  it('loses neither a hand edit made while an API write is in flight nor the API write', async () => {
    fs.writeFileSync(path.join(h.specDir, 'mesh.yaml'), [
      'kind: Mesh', 'meshName: app', '---',
      'kind: VirtualNode', 'meshName: app', 'virtualNodeName: a', 'spec: { serviceDiscovery: { dns: { hostname: a.local } } }', '---',
      'kind: VirtualNode', 'meshName: app', 'virtualNodeName: b', 'spec: { serviceDiscovery: { dns: { hostname: b.local } } }', '',
    ].join('\n'));
    // The real directory store, with an operator editing the same file between the API's read and its write.
    class EditedMeanwhile extends DirectoryStore {
      edits = 0;
      override async compareAndPut(key: string, text: string, expected: ExpectedRevision): Promise<string> {
        if (this.edits++ === 0) {
          const file = path.join(h.specDir, key);
          fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('b.local', 'b-by-hand.local'));
        }
        return super.compareAndPut(key, text, expected);
      }
    }
    const store = new EditedMeanwhile(h.specDir);
    const handlers = new ApiHandlers({ store, arn: { region: REGION, account: ACCOUNT }, startedAt: new Date() });
    const out = await handlers.handle('UpdateVirtualNode', { meshName: 'app', virtualNodeName: 'a', spec: { serviceDiscovery: { dns: { hostname: 'a-by-api.local' } } } });
    assert.equal((out.virtualNode as { metadata: { version: number } }).metadata.version, 2);
    assert.equal(store.edits, 2, 'the first write found the file changed and was planned again on what the operator wrote');
    const text = fs.readFileSync(path.join(h.specDir, 'mesh.yaml'), 'utf8');
    assert.match(text, /a-by-api\.local/);
    assert.match(text, /b-by-hand\.local/);
  });

  it('changes a resource written by hand in place, keeping the other documents of its file and their comments', async () => {
    fs.writeFileSync(path.join(h.specDir, 'mesh.yaml'), [
      '# the demo mesh, by hand',
      'kind: Mesh',
      'meshName: app',
      '---',
      '# blue is the stable version',
      'kind: VirtualNode',
      'meshName: app',
      'virtualNodeName: blue',
      'spec:',
      '  serviceDiscovery: { dns: { hostname: blue.local } }',
      'meshd: { ingressPort: 15300 }',
      '---',
      '# green comes next',
      'kind: VirtualNode',
      'meshName: app',
      'virtualNodeName: green',
      'spec:',
      '  serviceDiscovery: { dns: { hostname: green.local } }',
      'meshd: { ingressPort: 15400 }',
      '',
    ].join('\n'));
    const described = (await client.send(new AppMesh.DescribeVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'blue' }))).virtualNode!;
    assert.equal(described.metadata!.version, 1);
    const updated = (await client.send(new AppMesh.UpdateVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'blue', spec: { serviceDiscovery: { dns: { hostname: 'blue2.local' } } } }))).virtualNode!;
    assert.equal(updated.metadata!.version, 2);
    assert.equal(updated.metadata!.uid, described.metadata!.uid);
    const text = fs.readFileSync(path.join(h.specDir, 'mesh.yaml'), 'utf8');
    assert.match(text, /# the demo mesh, by hand/);
    assert.match(text, /# green comes next/);
    assert.match(text, /blue2\.local/);
    assert.match(text, /ingressPort: 15300/, "meshd's own settings of the node are kept");
    assert.deepEqual(fs.readdirSync(h.specDir), ['mesh.yaml']);
    await client.send(new AppMesh.DeleteVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'green' }));
    const after = fs.readFileSync(path.join(h.specDir, 'mesh.yaml'), 'utf8');
    assert.doesNotMatch(after, /green/);
    assert.match(after, /# the demo mesh, by hand/);
    assert.deepEqual((await client.send(new AppMesh.ListVirtualNodesCommand({ meshName: 'app' }))).virtualNodes!.map((n) => n.virtualNodeName), ['blue']);
  });
});

