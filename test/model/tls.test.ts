import { strict as assert } from 'node:assert';
import { clientPolicyAppliesTo } from '../../src/model/tls';
import { baseMesh, doc, errorsOf, model, setIn, type SpecFiles } from './fixtures';

const certPath = 'spec.listeners.0.tls.certificate';
const listenerOfB = 'nodes.yaml: VirtualNode b: spec.listeners[0].tls';

function withSdsCertificate(secretName: string): SpecFiles {
  const files = baseMesh();
  setIn(doc(files, 'b'), certPath, { sds: { secretName } });
  return files;
}

function withClientPolicy(tls: Record<string, unknown>): SpecFiles {
  const files = baseMesh();
  setIn(doc(files, 'a'), 'spec.backendDefaults.clientPolicy.tls', tls);
  return files;
}

const rootTrust = { trust: { sds: { secretName: 'ROOTCA' } } };

describe('model/tls', () => {
  describe('SDS secret names meshd serves', () => {
    const served: { secretName: string; provision: string }[] = [
      { secretName: 'spiffe://meshd.local/mesh/m/virtualNode/b', provision: 'endpoint-certificate' },
      { secretName: 'default', provision: 'endpoint-certificate' },
    ];
    for (const row of served) {
      it(`serves ${row.secretName} as the endpoint's certificate`, () => {
        const b = model(withSdsCertificate(row.secretName)).endpoints['mesh/m/virtualNode/b']!;
        const certificate = b.listeners[0]!.tls!.certificate;
        assert.equal(certificate.kind, 'sds');
        assert.equal(certificate.kind === 'sds' && certificate.provision.kind, row.provision);
        assert.equal(certificate.issuedByMeshCa, true);
        assert.deepEqual(b.sdsSecrets, [{ secretName: row.secretName, provision: { kind: row.provision } }]);
      });
    }

    const refused: { name: string; secretName: string; message: string; trustDomain?: string }[] = [
      {
        name: 'an unknown name',
        secretName: 'my-cert',
        message: 'SDS secret "my-cert" is not served by meshd: use spiffe://meshd.local/mesh/m/virtualNode/b or default, or declare a Secret named "my-cert" in mesh m',
      },
      {
        name: "another endpoint's identity",
        secretName: 'spiffe://meshd.local/mesh/m/virtualNode/a',
        message: 'SDS secret "spiffe://meshd.local/mesh/m/virtualNode/a" is another endpoint\'s identity: a proxy is served only its own (spiffe://meshd.local/mesh/m/virtualNode/b)',
      },
      {
        name: 'the CA bundle as a certificate',
        secretName: 'ROOTCA',
        message: 'SDS secret "ROOTCA" is the CA trust bundle, not a certificate (use spiffe://meshd.local/mesh/m/virtualNode/b or default)',
      },
      {
        name: 'a SPIFFE ID of another trust domain',
        secretName: 'spiffe://meshd.local/mesh/m/virtualNode/b',
        trustDomain: 'prod.example',
        // Not the old hint "declare a Secret named spiffe://...": such a Secret is refused as reserved.
        message: 'SDS secret "spiffe://meshd.local/mesh/m/virtualNode/b" is in trust domain "meshd.local", but meshd issues certificates only in its own trust domain "prod.example": name it spiffe://prod.example/<workload>, or run meshd with --trust-domain meshd.local',
      },
    ];
    for (const row of refused) {
      it(`refuses ${row.name}`, () => {
        assert.deepEqual(errorsOf(withSdsCertificate(row.secretName), row.trustDomain ? { trustDomain: row.trustDomain } : {}),
          [`${listenerOfB}.certificate.sds.secretName: ${row.message}`]);
      });
    }

    it('refuses an endpoint certificate used as trust', () => {
      const files = baseMesh();
      setIn(doc(files, 'b'), 'spec.listeners.0.tls.validation', { trust: { sds: { secretName: 'default' } } });
      assert.deepEqual(errorsOf(files), [
        `${listenerOfB}.validation.trust.sds.secretName: SDS secret "default" is this endpoint's own certificate, not a trust bundle (use spiffe://meshd.local or ROOTCA)`,
      ]);
    });

    it('serves Secret resources of the mesh, each for its own use', () => {
      const files = baseMesh();
      files['secrets.yaml'] = [
        { kind: 'Secret', meshName: 'm', secretName: 'b-cert', spec: { file: { certificateChain: '/c/b.pem', privateKey: '/c/b.key' } } },
        { kind: 'Secret', meshName: 'm', secretName: 'partner-ca', spec: { file: { trustedCa: '/c/partner.pem' } } },
      ];
      setIn(doc(files, 'b'), certPath, { sds: { secretName: 'b-cert' } });
      setIn(doc(files, 'b'), 'spec.listeners.0.tls.validation', { trust: { sds: { secretName: 'partner-ca' } } });
      const built = model(files);
      const b = built.endpoints['mesh/m/virtualNode/b']!;
      assert.deepEqual(b.sdsSecrets, [
        { secretName: 'b-cert', provision: { kind: 'file-certificate', certificateChain: '/c/b.pem', privateKey: '/c/b.key' } },
        { secretName: 'partner-ca', provision: { kind: 'file-trust', trustedCa: '/c/partner.pem' } },
      ]);
      assert.equal(b.listeners[0]!.tls!.certificate.issuedByMeshCa, false);
      assert.deepEqual(Object.keys(built.secrets), ['m/b-cert', 'm/partner-ca']);

      setIn(doc(files, 'b'), certPath, { sds: { secretName: 'partner-ca' } });
      assert.deepEqual(errorsOf(files), [
        `${listenerOfB}.certificate.sds.secretName: SDS secret "partner-ca" is a trusted CA (Secret in secrets.yaml), not a certificate`,
      ]);
    });

    it('refuses a Secret named like a name meshd serves itself', () => {
      const files = baseMesh();
      files['secrets.yaml'] = [{ kind: 'Secret', meshName: 'm', secretName: 'ROOTCA', spec: { file: { trustedCa: '/c/ca.pem' } } }];
      assert.deepEqual(errorsOf(files), [
        'secrets.yaml: Secret ROOTCA: secretName: "ROOTCA" is reserved: meshd serves default, ROOTCA and SPIFFE IDs itself',
      ]);
    });

    it('serves acm certificates and trust as the SPIFFE ID and the trust domain bundle', () => {
      const files = baseMesh();
      setIn(doc(files, 'b'), 'spec.listeners.0.tls.validation', { trust: { acm: { certificateAuthorityArns: ['arn:aws:acm-pca:r:1:certificate-authority/ca'] } } });
      const b = model(files, { trustDomain: 'prod.example' }).endpoints['mesh/m/virtualNode/b']!;
      const tls = b.listeners[0]!.tls!;
      assert.deepEqual(tls.certificate, {
        kind: 'acm', certificateArn: 'arn:aws:acm:r:1:certificate/b', secretName: 'spiffe://prod.example/mesh/m/virtualNode/b',
        provision: { kind: 'endpoint-certificate' }, issuedByMeshCa: true,
      });
      assert.deepEqual(tls.validation?.trust, {
        kind: 'acm', certificateAuthorityArns: ['arn:aws:acm-pca:r:1:certificate-authority/ca'], secretName: 'spiffe://prod.example', provision: { kind: 'ca-bundle' },
      });
      assert.deepEqual(b.sdsSecrets.map((s) => s.secretName), ['spiffe://prod.example', 'spiffe://prod.example/mesh/m/virtualNode/b']);
    });
  });

  describe('client policies', () => {
    it('defaults enforce to true and ports to every port', () => {
      const policy = model(withClientPolicy({ validation: rootTrust })).endpoints['mesh/m/virtualNode/a']!.backendDefaults!;
      assert.equal(policy.enforce, true);
      assert.deepEqual(policy.ports, []);
      assert.equal(clientPolicyAppliesTo(policy, 9090), true);
    });

    it('applies only to the listed ports when ports are given', () => {
      const policy = model(withClientPolicy({ ports: [9443, 9090], validation: rootTrust })).endpoints['mesh/m/virtualNode/a']!.backendDefaults!;
      assert.deepEqual(policy.ports, [9090, 9443]);
      assert.equal(clientPolicyAppliesTo(policy, 9090), true);
      assert.equal(clientPolicyAppliesTo(policy, 8080), false);
    });

    const sanCases: { name: string; enforce?: boolean; sans: string[]; errors: string[] }[] = [
      {
        name: 'a wildcard SAN when enforce defaults to true',
        sans: ['b.m.local', '*.m.local'],
        errors: ['nodes.yaml: VirtualNode a: spec.backendDefaults.clientPolicy.tls.validation.subjectAlternativeNames.match.exact[1]: wildcard SAN "*.m.local" is allowed only when the client policy does not enforce TLS (enforce: false)'],
      },
      {
        name: 'a wildcard SAN when enforce is true',
        enforce: true,
        sans: ['*.m.local'],
        errors: ['nodes.yaml: VirtualNode a: spec.backendDefaults.clientPolicy.tls.validation.subjectAlternativeNames.match.exact[0]: wildcard SAN "*.m.local" is allowed only when the client policy does not enforce TLS (enforce: false)'],
      },
      { name: 'a wildcard SAN when not enforced', enforce: false, sans: ['*.m.local'], errors: [] },
      { name: 'FQDN and URI SANs', sans: ['b.m.local', 'spiffe://meshd.local/mesh/m/virtualNode/b'], errors: [] },
      {
        name: 'a SAN that is neither FQDN nor URI',
        sans: ['not a name'],
        errors: ['nodes.yaml: VirtualNode a: spec.backendDefaults.clientPolicy.tls.validation.subjectAlternativeNames.match.exact[0]: must be a SAN in FQDN or URI format'],
      },
    ];
    for (const row of sanCases) {
      it(`${row.errors.length ? 'refuses' : 'accepts'} ${row.name}`, () => {
        const files = withClientPolicy({
          ...(row.enforce !== undefined ? { enforce: row.enforce } : {}),
          validation: { ...rootTrust, subjectAlternativeNames: { match: { exact: row.sans } } },
        });
        assert.deepEqual(errorsOf(files), row.errors);
      });
    }

    it('lets a per-backend policy override backendDefaults, and falls back to the defaults otherwise', () => {
      const files = withClientPolicy({ validation: rootTrust });
      doc(files, 'a').spec = {
        ...(doc(files, 'a').spec as object),
        backends: [
          { virtualService: { virtualServiceName: 'svc-b', clientPolicy: { tls: { enforce: false, ports: [9090], validation: { trust: { file: { certificateChain: '/ca.pem' } } } } } } },
          { virtualService: { virtualServiceName: 'svc-c' } },
        ],
      };
      files['routing.yaml']!.push({ kind: 'VirtualService', meshName: 'm', virtualServiceName: 'svc-c', spec: { provider: { virtualNode: { virtualNodeName: 'b' } } } });
      const a = model(files).endpoints['mesh/m/virtualNode/a']!;
      const [svcB, svcC] = a.backends;
      assert.equal(svcB!.clientPolicySource, 'backend');
      assert.deepEqual(svcB!.clientPolicy, { enforce: false, ports: [9090], validation: { trust: { kind: 'file', certificateChain: '/ca.pem' } } });
      assert.equal(svcC!.clientPolicySource, 'defaults');
      assert.deepEqual(svcC!.clientPolicy, a.backendDefaults);
      assert.equal(svcC!.clientPolicy!.validation.trust.kind, 'sds');
    });

    it('has no client policy when neither the backend nor the defaults give one', () => {
      const a = model(baseMesh()).endpoints['mesh/m/virtualNode/a']!;
      assert.equal(a.backends[0]!.clientPolicySource, 'none');
      assert.equal(a.backends[0]!.clientPolicy, undefined);
    });

    it('resolves the SDS names of client certificates for the endpoint that uses them', () => {
      const files = withClientPolicy({ certificate: { sds: { secretName: 'spiffe://meshd.local/mesh/m/virtualNode/b' } }, validation: rootTrust });
      assert.deepEqual(errorsOf(files), [
        'nodes.yaml: VirtualNode a: spec.backendDefaults.clientPolicy.tls.certificate.sds.secretName: SDS secret "spiffe://meshd.local/mesh/m/virtualNode/b" is another endpoint\'s identity: a proxy is served only its own (spiffe://meshd.local/mesh/m/virtualNode/a)',
      ]);
    });
  });
});
