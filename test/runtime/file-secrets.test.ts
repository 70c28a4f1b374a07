// File-backed secrets through the whole runtime: a `Secret` resource in the spec, its files on
// disk, served over SDS to the node whose spec references it, hot-replaced, refused when bad.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CertificateAuthority, issueLeaf, type IssuedLeaf } from '../../src/pki';
import { Meshd } from '../../src/runtime/meshd';
import { parsePrometheusText, sampleValue } from '../admin/prom-text';
import { SdsProxy } from '../support/sds-proxy';

const SPEC = (dir: string): string => `kind: Mesh
meshName: demo
spec: {}
---
kind: Secret
meshName: demo
secretName: web-cert
spec:
  file: { certificateChain: ${dir}/web.crt, privateKey: ${dir}/web.key }
---
kind: VirtualNode
meshName: demo
virtualNodeName: web
spec:
  listeners:
    - portMapping: { port: 8080, protocol: http }
      tls: { mode: STRICT, certificate: { sds: { secretName: web-cert } } }
  serviceDiscovery: { dns: { hostname: 127.0.0.1 } }
meshd: { ingressPort: 15200, egressPort: 15201, address: 127.0.0.1 }
---
kind: VirtualNode
meshName: demo
virtualNodeName: other
spec:
  listeners:
    - portMapping: { port: 8081, protocol: http }
  serviceDiscovery: { dns: { hostname: 127.0.0.1 } }
meshd: { ingressPort: 15210, egressPort: 15211, address: 127.0.0.1 }
`;

describe('runtime: file-backed Secret resources', function () {
  this.timeout(30_000);
  let work: string;
  let files: string;
  let meshd: Meshd;
  let ca: CertificateAuthority;
  const proxies: SdsProxy[] = [];

  async function writePair(leaf: IssuedLeaf): Promise<void> {
    for (const [name, text] of [['web.key', leaf.privateKeyPem], ['web.crt', leaf.certificateChainPem]] as const) {
      fs.writeFileSync(path.join(files, `.${name}.tmp`), text, { mode: 0o600 });
      fs.renameSync(path.join(files, `.${name}.tmp`), path.join(files, name));
    }
  }

  beforeEach(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-filesecret-'));
    files = path.join(work, 'files');
    fs.mkdirSync(files);
    ca = await CertificateAuthority.loadOrCreate({ dir: path.join(work, 'operator-ca'), trustDomain: 'ops.example' });
    await writePair(await issueLeaf(ca, { mesh: 'demo', kind: 'virtualNode', name: 'web', dnsNames: ['web.demo.local'] }, { trustDomain: 'ops.example' }));
    fs.mkdirSync(path.join(work, 'mesh'));
    fs.writeFileSync(path.join(work, 'mesh', 'mesh.yaml'), SPEC(files));
    meshd = await Meshd.start({
      configDir: path.join(work, 'mesh'), xds: ['127.0.0.1:0'], sdsSocket: path.join(work, 'sds.sock'),
      stateDir: path.join(work, 'state'), trustDomain: 'meshd.local', admin: '127.0.0.1:0',
    });
  });
  afterEach(async () => {
    proxies.splice(0).forEach((p) => p.close());
    await meshd.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const proxy = (node: string, names: string[]): SdsProxy => {
    const p = new SdsProxy(meshd.options.sdsSocket, node, meshd.credentials.tokenFor(node), names);
    proxies.push(p);
    return p;
  };

  it('serves the file pair to the node that references it, pushes a replacement, and refuses a bad one', async () => {
    const web = proxy('mesh/demo/virtualNode/web', ['web-cert', 'ROOTCA']);
    const first = await web.until(() => true);
    assert.equal(first.certificateChainPem, fs.readFileSync(path.join(files, 'web.crt'), 'utf8'));

    const next = await issueLeaf(ca, { mesh: 'demo', kind: 'virtualNode', name: 'web', dnsNames: ['web.demo.local'] }, { trustDomain: 'ops.example' });
    await writePair(next);
    const replaced = await web.until((m) => m.serial === next.serial, 3000);
    assert.equal(replaced.privateKeyPem, next.privateKeyPem);

    // A key that does not match the certificate: refused, counted, the previous pair stays.
    const stranger = await issueLeaf(ca, { mesh: 'demo', kind: 'virtualNode', name: 'x', dnsNames: [] }, { trustDomain: 'ops.example' });
    fs.writeFileSync(path.join(files, 'web.key'), stranger.privateKeyPem);
    const deadline = Date.now() + 5000;
    let refused: number | undefined;
    while (!refused && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      refused = sampleValue(parsePrometheusText(await (await fetch(`${meshd.adminServer!.url}/metrics`)).text()), 'meshd_file_secret_refusals_total');
    }
    assert.ok(refused && refused >= 1, 'the refusal is counted');
    assert.equal(web.material!.serial, next.serial, 'the last good pair is still served');
  });

  it('refuses the file secret to a node whose spec does not reference it', async () => {
    const other = proxy('mesh/demo/virtualNode/other', ['web-cert', 'default', 'ROOTCA']);
    await other.until(() => true);
    assert.ok(!other.received.some((s) => s.name === 'web-cert'));
  });
});
