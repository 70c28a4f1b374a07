import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { runCli } from '../support/run-cli';
import { writeConfigMap } from '../support/configmap';

describe('cli: meshd validate', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-validate-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('accepts the demo mesh', async () => {
    const result = await runCli(['validate', path.resolve(__dirname, '../../../examples/colorapp')]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /valid \(1 mesh, 3 virtual nodes, 1 virtual gateway\)/);
  });

  it('prints every error with file, resource and field, and exits 1', async () => {
    fs.writeFileSync(path.join(dir, 'nodes.yaml'), `kind: Mesh
meshName: demo
spec: {}
---
kind: VirtualNode
meshName: demo
virtualNodeName: colorteller
spec:
  listeners:
    - portMapping: { port: 8080, protocol: http }
      tls: { mode: MAYBE, certificate: { sds: { secretName: default } } }
  backends:
    - virtualService: { virtualServiceName: missing.demo.local }
`);
    const result = await runCli(['validate', dir]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^nodes\.yaml: VirtualNode colorteller: spec\.listeners\[0\]\.tls\.mode: must be STRICT, PERMISSIVE or DISABLED$/m);
    assert.match(result.stdout, /error(s)? in /);
  });

  const MESH = 'kind: Mesh\nmeshName: demo\nspec: {}\n';
  const BAD_NODE = 'kind: VirtualNode\nmeshName: demo\nvirtualNodeName: a\nspec:\n  listeners:\n    - portMapping: { port: 99999, protocol: http }\n';

  it('validates a single file', async () => {
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH);
    const good = await runCli(['validate', path.join(dir, 'mesh.yaml')]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /mesh\.yaml: valid \(1 mesh, 0 virtual nodes/);
    fs.writeFileSync(path.join(dir, 'bad.yaml'), `${MESH}---\n${BAD_NODE}`);
    const bad = await runCli(['validate', path.join(dir, 'bad.yaml')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^bad\.yaml: VirtualNode a: spec\.listeners\[0\]\.portMapping\.port: /m);
  });

  it('names the file of an alias bomb and of a file over the size limit, and takes the limits as flags', async () => {
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), MESH);
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let level = 1; level < 9; level += 1) {
      const name = String.fromCharCode(97 + level);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${String.fromCharCode(96 + level)}`).join(', ')}]`);
    }
    fs.writeFileSync(path.join(dir, 'bomb.yaml'), `${levels.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'big.yaml'), `${MESH.replace('demo', 'other')}# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    const result = await runCli(['validate', dir]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /^big\.yaml: is 2097\d+ bytes, over the limit of 1048576 bytes for one spec file \(--spec-max-file-size\); not read$/m);
    assert.match(result.stdout, /^bomb\.yaml: document 1: expands YAML aliases more than 1000 times \(--spec-max-aliases\)/m);
    const raised = await runCli(['validate', dir, '--spec-max-file-size', '4MiB', '--spec-max-aliases', '0']);
    assert.doesNotMatch(raised.stdout, /big\.yaml/);
    assert.match(raised.stdout, /^bomb\.yaml: document 1: expands YAML aliases more than 0 times/m);
    const wrong = await runCli(['validate', dir, '--spec-max-file-size', 'lots']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /--spec-max-file-size.*must be a size such as 1048576, 512KiB or 4MiB/);
  });

  it('validates every resource of a Kubernetes ConfigMap volume', async () => {
    writeConfigMap(dir, { 'mesh.yaml': MESH, 'node.yaml': BAD_NODE });
    const result = await runCli(['validate', dir]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /^node\.yaml: VirtualNode a: spec\.listeners\[0\]\.portMapping\.port: /m);
  });
});

describe('cli: meshd validate, App Mesh rules and warnings', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-validate-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints every error of every stage at once, each naming file, resource and field', async () => {
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), 'kind: Mesh\nmeshName: demo\nspec: { egressFilter: { type: ALLOW_SOME } }\n');
    fs.writeFileSync(path.join(dir, 'nodes.yaml'), `kind: VirtualNode
meshName: demo
virtualNodeName: color blue/v2
spec: {}
---
kind: VirtualNode
meshName: demo
virtualNodeName: green
spec:
  listeners:
    - portMapping: { port: 8080, protocol: http }
      tls: { mode: STRICT, certificate: { acm: { certificateArn: not-an-arn } } }
  backends:
    - virtualService: { virtualServiceName: missing.demo.local }
---
kind: VirtualNod
meshName: demo
virtualNodeName: red
spec: {}
`);
    fs.writeFileSync(path.join(dir, 'routes.yaml'), `kind: VirtualService
meshName: demo
virtualServiceName: color svc
spec: {}
---
kind: VirtualRouter
meshName: demo
virtualRouterName: router
spec: { listeners: [{ portMapping: { port: 8080, protocol: http } }] }
---
kind: Route
meshName: demo
virtualRouterName: router
routeName: by-prefix
spec:
  httpRoute:
    match: { prefix: color }
    action: { weightedTargets: [{ virtualNode: green, weight: 150 }, { virtualNode: red, weight: 0 }] }
`);
    const result = await runCli(['validate', dir]);
    assert.equal(result.code, 1);
    assert.deepEqual(result.stdout.trim().split('\n'), [
      'mesh.yaml: Mesh demo: spec.egressFilter.type: must be ALLOW_ALL or DROP_ALL',
      'nodes.yaml: VirtualNode color blue/v2: virtualNodeName: must start with a letter or digit and hold only letters, digits, ".", "_" and "-": it is part of the node id mesh/<mesh>/virtualNode/<name> and of the SPIFFE ID',
      'nodes.yaml: VirtualNode green: spec.listeners[0].tls.certificate.acm.certificateArn: must be an ACM certificate ARN (arn:<partition>:acm:<region>:<account>:certificate/<id>)',
      'nodes.yaml: VirtualNod red: kind: must be Mesh, VirtualNode, VirtualGateway, VirtualService, VirtualRouter, Route, GatewayRoute or Secret (found "VirtualNod")',
      'nodes.yaml: VirtualNode green: spec.backends[0].virtualService.virtualServiceName: virtual service "missing.demo.local" does not exist in mesh "demo"',
      'routes.yaml: VirtualService color svc: virtualServiceName: must be a host name (dot-separated labels of letters, digits and "-", at most 63 characters each): callers reach the virtual service by this name',
      'routes.yaml: Route by-prefix: spec.httpRoute.action.weightedTargets[0].weight: must be at most 100',
      'routes.yaml: Route by-prefix: spec.httpRoute.match.prefix: must start with "/" ("/" alone matches every request): a request path always does, so this prefix would never match',
      `8 errors in ${dir}`,
    ]);
  });

  it('prints warnings for Cloud Map attributes it cannot honour, and exits 0 when there are only warnings', async () => {
    const node = (name: string, version: string): string => `kind: VirtualNode
meshName: demo
virtualNodeName: ${name}
spec:
  listeners: [{ portMapping: { port: 8080, protocol: http } }]
  serviceDiscovery: { awsCloudMap: { namespaceName: demo.local, serviceName: color, attributes: [{ key: version, value: ${version} }] } }
`;
    fs.writeFileSync(path.join(dir, 'mesh.yaml'), `kind: Mesh\nmeshName: demo\n---\n${node('color-blue', 'blue')}---\n${node('color-red', 'red')}`);
    const result = await runCli(['validate', dir]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const warning = (name: string): string => `warning: mesh.yaml: VirtualNode ${name}: spec.serviceDiscovery.awsCloudMap.attributes: ignored: meshd cannot query Cloud Map and resolves it as the DNS name "color.demo.local" (serviceName.namespaceName), every instance alike; virtual nodes color-blue, color-red have the same endpoint color.demo.local:15000, so routes between them split nothing`;
    assert.deepEqual(result.stdout.trim().split('\n'), [
      warning('color-blue'),
      warning('color-red'),
      `${dir}: valid (1 mesh, 2 virtual nodes, 0 virtual gateways, 2 warnings)`,
    ]);
  });
});

describe('cli: meshd certs dev', () => {
  it('writes a development CA and a certificate with a 0600 key for every endpoint, and reuses them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-devcerts-'));
    try {
      const example = path.resolve(__dirname, '../../../examples/colorapp');
      const first = await runCli(['certs', 'dev', '--config', example, '--dir', dir]);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      const key = path.join(dir, 'colorapp/virtualNode/front/private_key.pem');
      assert.equal(fs.statSync(key).mode & 0o777, 0o600);
      const cert = new X509Certificate(fs.readFileSync(path.join(dir, 'colorapp/virtualNode/front/cert_chain.pem')));
      assert.ok(cert.verify(new X509Certificate(fs.readFileSync(path.join(dir, 'ca_bundle.pem'))).publicKey));
      assert.match(cert.subjectAltName ?? '', /URI:spiffe:\/\/meshd\.local\/mesh\/colorapp\/virtualNode\/front/);
      const again = await runCli(['certs', 'dev', '--config', example, '--dir', dir]);
      assert.equal(again.code, 0);
      assert.equal(new X509Certificate(fs.readFileSync(path.join(dir, 'colorapp/virtualNode/front/cert_chain.pem'))).serialNumber, cert.serialNumber);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
