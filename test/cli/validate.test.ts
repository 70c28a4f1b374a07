import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { runCli } from '../support/run-cli';

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
