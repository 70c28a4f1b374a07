import { strict as assert } from 'node:assert';
import { encodeResource } from '../../src/cache/resource';
import { tlsCertificateSecret } from '../../src/envoy/secret';
import { messageType } from '../../src/xds/protos';
import { TypeUrl } from '../../src/xds/type-urls';
import { buildTlsCertificateSecrets, tlsCertificateSecretSizes } from '../../src/sds/tls-certificate-secret';
import { EndpointCertificates, TrustAuthority } from '../../src/pki';
import { tempDir } from '../pki/helpers';

// The hand-encoded leaf Secret must be the bytes protobufjs writes for the same message: versions
// hash these bytes, and a proxy decodes them with Envoy's own schema.
describe('sds/tls-certificate-secret', () => {
  const viaProtobufjs = (name: string, material: { certificateChainPem: string; privateKeyPem: string }): Buffer =>
    Buffer.from(encodeResource(TypeUrl.Secret, name, tlsCertificateSecret(name, material)).value);

  it('encodes a real leaf exactly as protobufjs does, under both of its names', async () => {
    const temp = tempDir('sds-secret');
    const authority = await TrustAuthority.open({ stateDir: temp.dir, trustDomain: 'example.org' });
    try {
      const certificates = new EndpointCertificates({ authority });
      const leaf = await certificates.get({ mesh: 'demo', kind: 'virtualNode', name: 'front', dnsNames: ['front.demo.local'] });
      certificates.stop();
      const names = ['default', leaf.spiffeId];
      const encoded = buildTlsCertificateSecrets(names, leaf, (_name, bytes) => Buffer.from(bytes));
      for (const [i, name] of names.entries()) {
        const bytes = encoded[i]!;
        assert.deepEqual(bytes, viaProtobufjs(name, leaf));
        const decoded = messageType('envoy.extensions.transport_sockets.tls.v3.Secret').toObject(messageType('envoy.extensions.transport_sockets.tls.v3.Secret').decode(bytes)) as {
          name: string; tlsCertificate: { certificateChain: { inlineString: string }; privateKey: { inlineString: string } };
        };
        assert.equal(decoded.name, name);
        assert.equal(decoded.tlsCertificate.certificateChain.inlineString, leaf.certificateChainPem);
        assert.equal(decoded.tlsCertificate.privateKey.inlineString, leaf.privateKeyPem);
      }
    } finally {
      await authority.close();
      temp.cleanup();
    }
  });

  it('matches protobufjs for empty, multi-byte and long fields (lengths past one and two varint bytes)', () => {
    const cases: [string, string, string][] = [
      ['', '', ''],
      ['névé-☃', 'chain ✓', 'key ✓'],
      ['n'.repeat(127), 'c'.repeat(128), 'k'.repeat(16_383)],
      ['x'.repeat(300), 'c'.repeat(16_384), 'k'.repeat(70_000)],
    ];
    for (const [name, certificateChainPem, privateKeyPem] of cases) {
      const material = { certificateChainPem, privateKeyPem };
      // With a second name of another length before it in the same call.
      for (const names of [[name], ['default', name], ['d'.repeat(200), name]]) {
        const built = buildTlsCertificateSecrets(names, material, (_n, bytes) => Buffer.from(bytes));
        assert.deepEqual(built[built.length - 1], viaProtobufjs(name, material), `name of ${name.length} characters after ${names.length - 1} other(s)`);
        // The sizes given ahead (for one allocation holding every name's secret) are the sizes built.
        assert.deepEqual(tlsCertificateSecretSizes(names, material), built.map((bytes) => bytes.length));
      }
    }
  });

  it('hands out bytes that hold the key only during the build: the scratch is zeroed after', () => {
    const material = { certificateChainPem: 'CHAIN', privateKeyPem: 'SECRET-KEY-MATERIAL' };
    let seen: Buffer | undefined;
    buildTlsCertificateSecrets(['default'], material, (_name, bytes) => { seen = bytes; });
    assert.ok(seen);
    assert.ok(seen.every((byte) => byte === 0), 'the view into the scratch is zeroed once the build returns');
  });
});
