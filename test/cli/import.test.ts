import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/run-cli';

const CFN = path.resolve(__dirname, '../../../test/fixtures/import/cloudformation');
const STACKS = [path.join(CFN, 'mesh.yaml'), path.join(CFN, 'services.json')];
const DEPLOYED = ['--parameter', 'mesh.yaml:AWS::StackName=colors-mesh', '--parameter', 'AWS::Region=us-west-2', '--parameter', 'AWS::AccountId=111122223333'];

function filesIn(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((name) => [name, fs.readFileSync(path.join(dir, name), 'utf8')]));
}

describe('cli: meshd import cloudformation', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-import-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes one valid spec file per resource of two stacks, the same bytes every time, with a report', async () => {
    const out = path.join(dir, 'specs');
    const first = await runCli(['import', 'cloudformation', ...STACKS, ...DEPLOYED, '--out', out]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '');
    assert.match(first.stderr, /^imported: 1 Mesh, 3 VirtualNode, 2 VirtualService, 1 VirtualRouter, 1 Route, 1 VirtualGateway, 2 GatewayRoute$/m);
    assert.match(first.stderr, /^skipped: 4 non-App-Mesh resources \(AWS::ECS::TaskDefinition ×2, AWS::IAM::Role, AWS::Logs::LogGroup\)$/m);
    assert.match(first.stderr, /^skipped: 1 resource whose Condition is false$/m);
    assert.match(first.stderr, /^warning: colors\.virtual-node\.green\.yaml: VirtualNode green: spec\.serviceDiscovery\.awsCloudMap\.attributes: /m);
    assert.match(first.stderr, /^valid, 1 warning; wrote 11 files to /m);
    const written = filesIn(out);
    assert.deepEqual(Object.keys(written), [
      'colors.gateway-route.ingress.FrontGatewayRoute.yaml', 'colors.gateway-route.ingress.debug.yaml',
      'colors.mesh.yaml', 'colors.route.color-router.ColorRoute.yaml',
      'colors.virtual-gateway.ingress.yaml', 'colors.virtual-node.blue.yaml', 'colors.virtual-node.front.yaml', 'colors.virtual-node.green.yaml',
      'colors.virtual-router.color-router.yaml', 'colors.virtual-service.color.colors.local.yaml', 'colors.virtual-service.front.colors.local.yaml',
    ]);
    assert.match(written['colors.route.color-router.ColorRoute.yaml']!, /weightedTargets:\n {8}- virtualNode: blue\n {10}weight: 80\n {8}- virtualNode: green\n {10}weight: 20\n/);
    assert.match(written['colors.virtual-node.front.yaml']!, /certificateArn: arn:aws:acm:us-west-2:111122223333:certificate\/front/);
    assert.match(written['colors.virtual-gateway.ingress.yaml']!, /port: 8080\n/);

    const again = await runCli(['import', 'cloudformation', ...STACKS, ...DEPLOYED, '--out', out]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(filesIn(out), written);
    const validated = await runCli(['validate', out]);
    assert.equal(validated.code, 0, validated.stdout);

    // Without --out the same files are printed as one multi-document stream.
    const printed = await runCli(['import', 'cloudformation', ...STACKS, ...DEPLOYED]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stdout.split('\n---\n').length, 11);
    assert.deepEqual(printed.stdout.split(/^---\n/m).sort(), Object.values(written).sort());
    assert.match(printed.stderr, /printed 11 resources$/m);
  });

  it('names template, logical ID and property of what it cannot resolve, suggests --parameter and writes nothing', async () => {
    const out = path.join(dir, 'specs');
    const result = await runCli(['import', 'cloudformation', ...STACKS, '--out', out]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: .*mesh\.yaml: Outputs\.MeshName: Export\.Name\.Fn::Sub: AWS::StackName is known only to a deployed stack; pass --parameter AWS::StackName=VALUE \(or --parameter mesh\.yaml:AWS::StackName=VALUE for this template only\)$/m);
    assert.match(result.stderr, /^error: .*services\.json: FrontNode: Properties\.Spec\.Listeners\[0\]\.TLS\.Certificate\.ACM\.CertificateArn\.Fn::Sub: AWS::Region is known only to a deployed stack/m);
    assert.match(result.stderr, /nothing written$/m);
    assert.equal(fs.existsSync(out), false);
  });

  it('checks without writing (--check) and prints every validation error of the result', async () => {
    fs.writeFileSync(path.join(dir, 'broken.yaml'), `Parameters:
  Port: { Type: Number, Default: 99999 }
Resources:
  Mesh: { Type: AWS::AppMesh::Mesh, Properties: { MeshName: demo } }
  Node:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: demo
      Spec:
        Listeners: [{ PortMapping: { Port: !Ref Port, Protocol: http } }]
  Caller:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: demo
      Spec:
        Backends: [{ VirtualService: { VirtualServiceName: missing.demo.local } }]
`);
    const result = await runCli(['import', 'cloudformation', path.join(dir, 'broken.yaml'), '--check']);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^invalid: demo\.virtual-node\.Node\.yaml: VirtualNode Node: spec\.listeners\[0\]\.portMapping\.port: /m);
    assert.match(result.stderr, /^invalid: demo\.virtual-node\.Caller\.yaml: VirtualNode Caller: spec\.backends\[0\].*missing\.demo\.local/m);
    assert.match(result.stderr, /checked \(--check\), nothing written$/m);
    assert.deepEqual(fs.readdirSync(dir), ['broken.yaml']);
  });

  it('is described in --help', async () => {
    const help = await runCli(['import', 'cloudformation', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--parameter <key=value>/);
    assert.match(help.stdout, /--out <dir>/);
    assert.match(help.stdout, /--check/);
  });
});

describe('cli: meshd import k8s', () => {
  const K8S = path.resolve(__dirname, '../../../test/fixtures/import/k8s');
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-import-k8s-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('maps the controller\'s resources of a directory (documents and a kubectl list) to valid spec files, the same bytes every time', async () => {
    const out = path.join(dir, 'specs');
    const first = await runCli(['import', 'k8s', K8S, '--out', out]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /^imported: 1 Mesh, 3 VirtualNode, 2 VirtualService, 1 VirtualRouter, 1 Route, 1 VirtualGateway, 2 GatewayRoute$/m);
    assert.match(first.stderr, /^skipped: 1 other Kubernetes object \(Deployment\)$/m);
    assert.match(first.stderr, /^note: podSelector dropped: /m);
    assert.match(first.stderr, /^valid, 0 warnings; wrote 11 files to /m);
    const written = filesIn(out);
    assert.deepEqual(Object.keys(written), [
      'colors.gateway-route.ingress_colors.debug.yaml', 'colors.gateway-route.ingress_colors.front_colors.yaml', 'colors.mesh.yaml',
      'colors.route.color-router_colors.color-route.yaml', 'colors.virtual-gateway.ingress_colors.yaml', 'colors.virtual-node.blue_colors.yaml',
      'colors.virtual-node.front_colors.yaml', 'colors.virtual-node.green_colors.yaml', 'colors.virtual-router.color-router_colors.yaml',
      'colors.virtual-service.color.colors.yaml', 'colors.virtual-service.front.colors.yaml',
    ]);
    assert.match(written['colors.virtual-node.front_colors.yaml']!, /backends:\n {4}- virtualService:\n {8}virtualServiceName: color\.colors\n/);
    assert.match(written['colors.virtual-gateway.ingress_colors.yaml']!, /certificateAuthorityArns:/);
    const again = await runCli(['import', 'k8s', path.join(K8S, 'services.yaml'), path.join(K8S, 'mesh.yaml'), '--out', out]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(filesIn(out), written);
  });

  it('refuses template leftovers with file and line, writing nothing', async () => {
    const manifest = path.join(dir, 'node.yaml');
    fs.writeFileSync(manifest, `apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: { name: shop }
spec: { namespaceSelector: {} }
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: { name: api, namespace: shop }
spec:
  serviceDiscovery:
    dns:
      hostname: \${API_HOST}
`);
    const result = await runCli(['import', 'k8s', manifest, '--out', path.join(dir, 'out')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: .*node\.yaml:12: VirtualNode api: spec\.serviceDiscovery\.dns\.hostname: "\$\{API_HOST\}" is a \$\{VAR\} left by an unfilled template/m);
    assert.match(result.stderr, /nothing written$/m);
    assert.equal(fs.existsSync(path.join(dir, 'out')), false);
  });
});
