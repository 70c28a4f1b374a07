// `meshd serve --api` as a process, driven by the AWS CLI exactly as App Mesh's documentation uses
// it (`aws appmesh ... --endpoint-url`), with a key from `meshd api-keys create`; an accepted write
// is a file in the config directory that the running meshd applies.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MESHD_BIN, runCli } from '../support/run-cli';
import { findAwsCli, runAws, type AwsCli } from '../support/aws-cli';

// The seed document's input for create-virtual-node (004, "Enable Encryption", step 3), in mesh app1.
const SEED_VIRTUAL_NODE = {
  meshName: 'app1',
  spec: {
    listeners: [{ portMapping: { port: 80, protocol: 'http' }, tls: { mode: 'STRICT', certificate: { acm: { certificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/12345678-1234-1234-1234-123456789012' } } } }],
    serviceDiscovery: { dns: { hostname: 'serviceBv1.mesh.local' } },
  },
  virtualNodeName: 'serviceBv1',
};

describe('cli: meshd serve --api with the AWS CLI', function () {
  this.timeout(180_000);
  const cli: AwsCli | undefined = findAwsCli();
  let work: string;
  let child: ChildProcess;
  let stderr = '';
  let endpoint: string;
  let key: { accessKeyId: string; secretAccessKey: string };

  before(async function () {
    if (!cli) {
      console.log('    skipped: no AWS CLI here (apt-get install awscli, or set MESHD_AWS_CLI)');
      this.skip();
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-api-cli-'));
    fs.mkdirSync(path.join(work, 'mesh'));
    fs.writeFileSync(path.join(work, 'mesh', 'app1.yaml'), 'kind: Mesh\nmeshName: app1\n');
    const created = await runCli(['api-keys', 'create', '--state-dir', path.join(work, 'state'), '--json']);
    assert.equal(created.code, 0, created.stderr);
    key = JSON.parse(created.stdout) as { accessKeyId: string; secretAccessKey: string };
    child = spawn(process.execPath, [MESHD_BIN, 'serve', '--config', path.join(work, 'mesh'), '--xds', '127.0.0.1:0', '--state-dir', path.join(work, 'state'),
      '--no-admin', '--api', '127.0.0.1:0', '--api-region', 'us-west-2', '--api-account', '123456789012'], { env: { ...process.env, MESHD_LOG_LEVEL: 'info' } });
    child.stderr!.on('data', (d) => { stderr += d; });
    const deadline = Date.now() + 15_000;
    while (!/App Mesh API on (http:\/\/\S+)/.test(stderr)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`meshd did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    endpoint = /App Mesh API on (http:\/\/[^\s;]+)/.exec(stderr)![1]!;
  });
  after(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const aws = (...args: string[]) => runAws(cli!, ['appmesh', ...args], { endpoint, region: 'us-west-2', ...key, cwd: work });
  const json = <T>(run: { code: number; stdout: string; stderr: string }): T => {
    assert.equal(run.code, 0, run.stderr);
    return (run.stdout.trim() === '' ? {} : JSON.parse(run.stdout)) as T;
  };

  // Waits until the running meshd logged that it applied a mesh revision past `revision`.
  async function appliedAfter(revision: number): Promise<number> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const revisions = [...stderr.matchAll(/"revision":(\d+)[^\n]*"mesh applied"/g)].map((m) => Number(m[1]));
      const latest = Math.max(0, ...revisions);
      if (latest > revision) return latest;
      if (Date.now() > deadline) assert.fail(`no mesh revision after ${revision} was applied:\n${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it(`runs App Mesh's documented commands unchanged (${cli?.version.split(' ')[0] ?? 'no CLI'})`, async () => {
    const start = await appliedAfter(0);
    const mesh = json<{ mesh: { meshName: string; metadata: { arn: string } } }>(await aws('describe-mesh', '--mesh-name', 'app1'));
    assert.equal(mesh.mesh.metadata.arn, 'arn:aws:appmesh:us-west-2:123456789012:mesh/app1');
    fs.writeFileSync(path.join(work, 'create-virtual-node.json'), JSON.stringify(SEED_VIRTUAL_NODE));
    const node = json<{ virtualNode: { virtualNodeName: string; status: { status: string }; metadata: { version: number } } }>(
      await aws('create-virtual-node', '--cli-input-json', 'file://create-virtual-node.json'));
    assert.equal(node.virtualNode.virtualNodeName, 'serviceBv1');
    assert.deepEqual(node.virtualNode.status, { status: 'ACTIVE' });
    assert.ok(fs.existsSync(path.join(work, 'mesh', 'app1.virtualNode.serviceBv1.json')));
    const applied = await appliedAfter(start);
    const validate = await runCli(['validate', path.join(work, 'mesh')]);
    assert.equal(validate.code, 0, `meshd validate reads what the API wrote: ${validate.stdout}${validate.stderr}`);
    const described = json<{ virtualNode: { spec: { listeners: { tls: { mode: string } }[] } } }>(await aws('describe-virtual-node', '--mesh-name', 'app1', '--virtual-node-name', 'serviceBv1'));
    assert.equal(described.virtualNode.spec.listeners[0]!.tls.mode, 'STRICT');
    const updated = json<{ virtualNode: { metadata: { version: number } } }>(await aws('update-virtual-node', '--mesh-name', 'app1', '--virtual-node-name', 'serviceBv1',
      '--spec', JSON.stringify({ ...SEED_VIRTUAL_NODE.spec, listeners: [{ ...SEED_VIRTUAL_NODE.spec.listeners[0], tls: { ...SEED_VIRTUAL_NODE.spec.listeners[0]!.tls, mode: 'PERMISSIVE' } }] })));
    assert.equal(updated.virtualNode.metadata.version, 2);
    await appliedAfter(applied);
    const listed = json<{ virtualNodes: { virtualNodeName: string }[] }>(await aws('list-virtual-nodes', '--mesh-name', 'app1'));
    assert.deepEqual(listed.virtualNodes.map((n) => n.virtualNodeName), ['serviceBv1']);
    json(await aws('create-virtual-node', '--mesh-name', 'app1', '--virtual-node-name', 'serviceBv2',
      '--spec', JSON.stringify({ listeners: [{ portMapping: { port: 80, protocol: 'http' } }], serviceDiscovery: { dns: { hostname: 'serviceBv2.mesh.local' } } })));
    json(await aws('create-virtual-router', '--mesh-name', 'app1', '--virtual-router-name', 'serviceB', '--spec', '{"listeners":[{"portMapping":{"port":80,"protocol":"http"}}]}'));
    const route = (weights: [number, number]) => JSON.stringify({ httpRoute: { match: { prefix: '/' }, action: { weightedTargets: [{ virtualNode: 'serviceBv1', weight: weights[0] }, { virtualNode: 'serviceBv2', weight: weights[1] }] } } });
    json(await aws('create-route', '--mesh-name', 'app1', '--virtual-router-name', 'serviceB', '--route-name', 'serviceB-route', '--spec', route([90, 10])));
    const shifted = json<{ route: { metadata: { version: number }; spec: { httpRoute: { action: { weightedTargets: { weight: number }[] } } } } }>(
      await aws('update-route', '--mesh-name', 'app1', '--virtual-router-name', 'serviceB', '--route-name', 'serviceB-route', '--spec', route([0, 100])));
    assert.equal(shifted.route.metadata.version, 2);
    assert.deepEqual(shifted.route.spec.httpRoute.action.weightedTargets.map((t) => t.weight), [0, 100]);
    const routes = json<{ routes: { routeName: string }[] }>(await aws('list-routes', '--mesh-name', 'app1', '--virtual-router-name', 'serviceB'));
    assert.deepEqual(routes.routes.map((r) => r.routeName), ['serviceB-route']);
    const arn = 'arn:aws:appmesh:us-west-2:123456789012:mesh/app1/virtualNode/serviceBv1';
    json(await aws('tag-resource', '--resource-arn', arn, '--tags', 'key=team,value=b'));
    assert.deepEqual(json<{ tags: unknown[] }>(await aws('list-tags-for-resource', '--resource-arn', arn)).tags, [{ key: 'team', value: 'b' }]);

    const inUse = await aws('delete-virtual-node', '--mesh-name', 'app1', '--virtual-node-name', 'serviceBv1');
    assert.notEqual(inUse.code, 0);
    assert.match(inUse.stderr, /An error occurred \(ResourceInUseException\) when calling the DeleteVirtualNode operation(?: \([^)]*\))?: VirtualNode serviceBv1 in mesh app1 is still in use by Route serviceB-route/);
    const missing = await aws('describe-virtual-node', '--mesh-name', 'app1', '--virtual-node-name', 'nope');
    assert.match(missing.stderr, /An error occurred \(NotFoundException\) when calling the DescribeVirtualNode operation(?: \([^)]*\))?: VirtualNode nope in mesh app1 not found/);
    const invalid = await aws('update-virtual-node', '--mesh-name', 'app1', '--virtual-node-name', 'serviceBv2', '--spec', '{"listeners":[{"portMapping":{"port":80,"protocol":"http"},"tls":{"mode":"SOMETIMES","certificate":{"sds":{"secretName":"default"}}}}]}');
    assert.match(invalid.stderr, /\(BadRequestException\) when calling the UpdateVirtualNode operation(?: \([^)]*\))?: .*VirtualNode serviceBv2: spec\.listeners\[0\]\.tls\.mode: must be STRICT, PERMISSIVE or DISABLED/);

    json(await aws('delete-route', '--mesh-name', 'app1', '--virtual-router-name', 'serviceB', '--route-name', 'serviceB-route'));
    json(await aws('delete-virtual-router', '--mesh-name', 'app1', '--virtual-router-name', 'serviceB'));
    json(await aws('delete-virtual-node', '--mesh-name', 'app1', '--virtual-node-name', 'serviceBv2'));
    const deleted = json<{ virtualNode: { status: { status: string } } }>(await aws('delete-virtual-node', '--mesh-name', 'app1', '--virtual-node-name', 'serviceBv1'));
    assert.deepEqual(deleted.virtualNode.status, { status: 'DELETED' });
    assert.deepEqual(fs.readdirSync(path.join(work, 'mesh')), ['app1.yaml']);
  });

  it('refuses the CLI with a wrong secret as App Mesh would', async () => {
    const run = await runAws(cli!, ['appmesh', 'list-meshes'], { endpoint, region: 'us-west-2', accessKeyId: key.accessKeyId, secretAccessKey: 'wrong', cwd: work });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /\(InvalidSignatureException\) when calling the ListMeshes operation(?: \([^)]*\))?: The request signature we calculated does not match/);
  });
});
