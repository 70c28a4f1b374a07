import { strict as assert } from 'node:assert';
import { parseSpiffeName } from '../../src/model/spiffe-identity';
import { baseMesh, doc, errorsOf, model, setIn, type SpecFiles } from './fixtures';

// App Mesh's SPIRE walkthrough (howto-k8s-mtls-sds-based), reduced to the base mesh: each endpoint
// names its own SPIFFE ID as its certificate, the trust domain as its trust, and the peer's ID as SAN.
const TD = 'meshd.local';
const A_ID = `spiffe://${TD}/front`;
const B_ID = `spiffe://${TD}/colorblue`;
const bundle = (): Record<string, unknown> => ({ trust: { sds: { secretName: `spiffe://${TD}` } } });
const listenerCert = 'spec.listeners[0].tls.certificate.sds.secretName';
const policyCert = 'spec.backendDefaults.clientPolicy.tls.certificate.sds.secretName';

function spireMesh(aCertificate = A_ID, bCertificate = B_ID): SpecFiles {
  const files = baseMesh();
  setIn(doc(files, 'b'), 'spec.listeners.0.tls', {
    mode: 'STRICT',
    certificate: { sds: { secretName: bCertificate } },
    validation: { ...bundle(), subjectAlternativeNames: { match: { exact: [A_ID] } } },
  });
  setIn(doc(files, 'a'), 'spec.backendDefaults.clientPolicy.tls', {
    certificate: { sds: { secretName: aCertificate } },
    validation: { ...bundle(), subjectAlternativeNames: { match: { exact: [B_ID] } } },
  });
  return files;
}

describe('model/spiffe-identity', () => {
  it('splits spiffe:// names into trust domain and path', () => {
    assert.deepEqual(parseSpiffeName('spiffe://td.example/ns/x'), { trustDomain: 'td.example', path: 'ns/x' });
    assert.deepEqual(parseSpiffeName('spiffe://td.example'), { trustDomain: 'td.example', path: '' });
    assert.equal(parseSpiffeName('ROOTCA'), undefined);
  });

  it('makes a SPIFFE ID named as a certificate the identity of its endpoint, and the trust domain its bundle', () => {
    const built = model(spireMesh());
    const a = built.endpoints['mesh/m/virtualNode/a']!;
    const b = built.endpoints['mesh/m/virtualNode/b']!;
    assert.equal(a.spiffeId, A_ID);
    assert.equal(b.spiffeId, B_ID);
    assert.deepEqual(b.sdsSecrets, [
      { secretName: `spiffe://${TD}`, provision: { kind: 'ca-bundle' } },
      { secretName: B_ID, provision: { kind: 'endpoint-certificate' } },
    ]);
    assert.equal(b.listeners[0]!.tls!.certificate.issuedByMeshCa, true);
    // Callers see b by that identity (their default SANs follow it).
    assert.equal(a.backends[0]!.targets[0]!.spiffeId, B_ID);
    assert.deepEqual(a.backendDefaults!.validation.subjectAlternativeNames, [B_ID]);
    // An endpoint that assigns nothing keeps its default identity.
    assert.equal(built.endpoints['mesh/m/virtualGateway/g']!.spiffeId, `spiffe://${TD}/mesh/m/virtualGateway/g`);
  });

  it('accepts the same identity named in several places of one endpoint, and `default` beside it', () => {
    const files = spireMesh();
    setIn(doc(files, 'b'), 'spec.backendDefaults.clientPolicy.tls', { certificate: { sds: { secretName: 'default' } }, validation: bundle() });
    setIn(doc(files, 'b'), 'spec.backends', [{ virtualService: { virtualServiceName: 'svc-b', clientPolicy: { tls: { certificate: { sds: { secretName: B_ID } }, validation: bundle() } } } }]);
    assert.equal(model(files).endpoints['mesh/m/virtualNode/b']!.spiffeId, B_ID);
  });

  it('refuses a SPIFFE ID that another endpoint already claims, naming both', () => {
    assert.deepEqual(errorsOf(spireMesh(B_ID)), [
      `nodes.yaml: VirtualNode b: ${listenerCert}: SPIFFE ID "${B_ID}" is already the identity of VirtualNode a (nodes.yaml: VirtualNode a: ${policyCert}): an identity belongs to one endpoint, so give VirtualNode b its own`,
    ]);
  });

  it('refuses a SPIFFE ID in another trust domain, naming file, resource and field', () => {
    const foreign = 'spiffe://other.example/front';
    const files = spireMesh(foreign);
    setIn(doc(files, 'a'), 'spec.backendDefaults.clientPolicy.tls.validation.trust.sds.secretName', 'spiffe://other.example');
    assert.deepEqual(errorsOf(files), [
      `nodes.yaml: VirtualNode a: spec.backendDefaults.clientPolicy.tls.certificate.sds.secretName: SDS secret "${foreign}" is in trust domain "other.example", but meshd issues certificates only in its own trust domain "${TD}": name it spiffe://${TD}/<workload>, or run meshd with --trust-domain other.example`,
      'nodes.yaml: VirtualNode a: spec.backendDefaults.clientPolicy.tls.validation.trust.sds.secretName: SDS secret "spiffe://other.example" is the bundle of trust domain "other.example", but meshd serves only its own trust domain\'s bundle: use spiffe://meshd.local or ROOTCA (to trust another CA, declare a Secret with spec.file.trustedCa under a name that is not a SPIFFE ID)',
    ]);
  });

  it('refuses a second identity for one endpoint, pointing at the one it has', () => {
    const files = spireMesh();
    setIn(doc(files, 'a'), 'spec.listeners.0.tls', { mode: 'STRICT', certificate: { sds: { secretName: `spiffe://${TD}/front-v2` } } });
    assert.deepEqual(errorsOf(files), [
      `nodes.yaml: VirtualNode a: ${policyCert}: SDS secret "${A_ID}": this endpoint's identity is spiffe://${TD}/front-v2, assigned at ${listenerCert}; an endpoint has one identity, so use spiffe://${TD}/front-v2 or default`,
    ]);
    setIn(doc(files, 'a'), 'spec.listeners.0.tls.certificate.sds.secretName', `spiffe://${TD}/mesh/m/virtualNode/a`);
    assert.deepEqual(errorsOf(files), [
      `nodes.yaml: VirtualNode a: ${listenerCert}: SDS secret "spiffe://${TD}/mesh/m/virtualNode/a" is this endpoint's default identity, but its spec assigns it ${A_ID}, assigned at ${policyCert}: an endpoint has one identity, so use ${A_ID} or default`,
    ]);
  });

  const invalid: { name: string; secretName: string; problem: string }[] = [
    { name: 'an empty segment', secretName: `spiffe://${TD}/ns//front`, problem: 'is not a valid SPIFFE ID: it has an empty path segment (SPIFFE IDs have no "//" and no trailing "/")' },
    { name: 'a dot-dot segment', secretName: `spiffe://${TD}/ns/../front`, problem: 'is not a valid SPIFFE ID: it has the path segment "..", which SPIFFE IDs forbid' },
    { name: 'a character outside SPIFFE syntax', secretName: `spiffe://${TD}/front?x=1`, problem: 'is not a valid SPIFFE ID: it has the path segment "front?x=1": SPIFFE ID path segments are letters, digits, \'.\', \'-\' and \'_\'' },
    {
      name: "a path in meshd's own identity namespace",
      secretName: `spiffe://${TD}/mesh/front`,
      problem: `cannot be assigned: paths under mesh/ are meshd's default endpoint identities (spiffe://${TD}/mesh/<mesh>/<kind>/<name>); name the workload outside mesh/`,
    },
  ];
  for (const row of invalid) {
    it(`refuses a certificate SPIFFE ID with ${row.name}`, () => {
      assert.deepEqual(errorsOf(spireMesh(row.secretName)), [`nodes.yaml: VirtualNode a: ${policyCert}: SDS secret "${row.secretName}" ${row.problem}`]);
    });
  }

  it('refuses a SPIFFE ID as trust, pointing at the bundle', () => {
    const files = spireMesh();
    setIn(doc(files, 'b'), 'spec.listeners.0.tls.validation.trust.sds.secretName', A_ID);
    assert.deepEqual(errorsOf(files), [
      `nodes.yaml: VirtualNode b: spec.listeners[0].tls.validation.trust.sds.secretName: SDS secret "${A_ID}" is a SPIFFE ID (a certificate), not a trust bundle (use spiffe://${TD} or ROOTCA)`,
    ]);
  });
});
