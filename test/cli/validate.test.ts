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
