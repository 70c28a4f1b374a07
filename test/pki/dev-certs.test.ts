import { strict as assert } from 'node:assert';
import { readFileSync, statSync } from 'node:fs';
import { ensureDevCerts } from '../../src/pki/dev-certs';
import { validateTlsCertificate } from '../../src/pki/pem-validation';
import type { MeshEndpoint } from '../../src/pki/types';
import { mutualTlsHandshake, tempDir } from './helpers';

const endpoints: MeshEndpoint[] = [
  { mesh: 'colorapp', kind: 'virtualNode', name: 'colorteller', dnsNames: ['colorteller.colorapp.local'] },
  { mesh: 'colorapp', kind: 'virtualGateway', name: 'ingress', dnsNames: ['ingress.colorapp.local'] },
];

describe('pki/dev-certs', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => { temp = tempDir('dev-certs'); });
  afterEach(() => temp.cleanup());

  it('creates a CA and per-endpoint pairs once (keys 0600), and reuses them', async () => {
    const first = await ensureDevCerts(temp.dir, endpoints);
    assert.equal(first.endpoints.length, 2);
    const pairs = first.endpoints.map((files) => {
      assert.equal(statSync(files.privateKeyFile).mode & 0o777, 0o600);
      return { cert: readFileSync(files.certificateChainFile, 'utf8'), key: readFileSync(files.privateKeyFile, 'utf8'), files };
    });
    const material = validateTlsCertificate(pairs[0]!.cert, 'cert', pairs[0]!.key, 'key');
    assert.deepEqual(material.sans.uris, ['spiffe://meshd.local/mesh/colorapp/virtualNode/colorteller']);
    const second = await ensureDevCerts(temp.dir, endpoints);
    assert.deepEqual(second, first);
    assert.equal(readFileSync(second.endpoints[0]!.certificateChainFile, 'utf8'), pairs[0]!.cert, 'unchanged on the second run');
    const ca = readFileSync(first.caBundleFile, 'utf8');
    const result = await mutualTlsHandshake({ cert: pairs[0]!.cert, key: pairs[0]!.key, ca }, { cert: pairs[1]!.cert, key: pairs[1]!.key, ca }, { servername: 'colorteller.colorapp.local' });
    assert.equal(result.ok, true, result.error);
  });

  it('re-issues a pair whose DNS names changed', async () => {
    await ensureDevCerts(temp.dir, endpoints);
    const before = readFileSync((await ensureDevCerts(temp.dir, endpoints)).endpoints[0]!.certificateChainFile, 'utf8');
    const changed = await ensureDevCerts(temp.dir, [{ ...endpoints[0]!, dnsNames: ['teller.colorapp.local'] }]);
    const after = readFileSync(changed.endpoints[0]!.certificateChainFile, 'utf8');
    assert.notEqual(after, before);
  });
});
