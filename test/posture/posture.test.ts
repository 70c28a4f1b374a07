// The effective TLS posture of a path, one row per rule of App Mesh's negotiation (003): built
// from real specs through the real parser and model builder, on the base mesh's path
// a -> svc-b -> r -> b:9090 (b STRICT with an acm certificate, a without a client policy).
import { strict as assert } from 'node:assert';
import { meshGraphs } from '../../src/posture';
import type { Posture, PostureFacts } from '../../src/posture';
import { baseMesh, doc, model, setIn, type SpecFiles } from '../model/fixtures';

const A_ID = 'spiffe://meshd.local/mesh/m/virtualNode/a';
const rootTrust = { trust: { sds: { secretName: 'ROOTCA' } } };
const ownCertificate = { sds: { secretName: 'default' } };

interface Row {
  name: string;
  /** Changes to the base mesh: [resource, dotted path, value] (undefined deletes). */
  edits: [string, string, unknown][];
  posture: Posture;
  facts?: Partial<PostureFacts>;
  reason: RegExp;
}

const listenerTls = 'spec.listeners.0.tls';
const policy = 'spec.backendDefaults.clientPolicy.tls';

const rows: Row[] = [
  {
    name: 'STRICT without validation, no client policy: one-way TLS, the server verified against meshd\'s CA',
    edits: [],
    posture: 'tls',
    facts: { encrypted: true, callerVerifiesProvider: true, callerPresentsCertificate: false, providerRequiresClientCertificate: false, providerAcceptsPlaintext: false, clientPolicy: 'none' },
    reason: /^b port 9090: TLS, b does not ask for a client certificate$/,
  },
  {
    name: 'a file-based server certificate without a client policy: TLS, not verified',
    edits: [['b', `${listenerTls}.certificate`, { file: { certificateChain: '/certs/b.pem', privateKey: '/certs/b.key' } }]],
    posture: 'tls',
    facts: { callerVerifiesProvider: false },
    reason: /a does not verify b's certificate \(file-based\)/,
  },
  {
    name: 'no tls block and no client policy: plaintext',
    edits: [['b', listenerTls, undefined]],
    posture: 'plaintext',
    facts: { encrypted: false, providerMode: 'none', providerAcceptsPlaintext: true },
    reason: /^b port 9090 has no tls block/,
  },
  {
    name: 'tls.mode DISABLED: plaintext',
    edits: [['b', `${listenerTls}.mode`, 'DISABLED']],
    posture: 'plaintext',
    facts: { providerMode: 'DISABLED' },
    reason: /tls.mode DISABLED/,
  },
  {
    name: 'PERMISSIVE: both accepted, the caller still uses TLS',
    edits: [['b', `${listenerTls}.mode`, 'PERMISSIVE']],
    posture: 'permissive',
    facts: { encrypted: true, providerAcceptsPlaintext: true },
    reason: /^b port 9090 is PERMISSIVE: it also accepts plaintext; a uses TLS/,
  },
  {
    name: 'listener validation without SANs and a client certificate: mutual TLS without SAN check',
    edits: [['b', `${listenerTls}.validation`, rootTrust], ['a', policy, { certificate: ownCertificate, validation: rootTrust }]],
    posture: 'mtls',
    facts: { callerPresentsCertificate: true, providerRequiresClientCertificate: true, providerChecksCallerSan: false, clientPolicyApplies: true, clientPolicy: 'defaults' },
    reason: /^b port 9090 is STRICT: mutual TLS, b checks the client certificate's trust but not its SAN$/,
  },
  {
    name: 'listener validation listing the caller\'s SPIFFE ID: mutual TLS with SAN check',
    edits: [
      ['b', `${listenerTls}.validation`, { ...rootTrust, subjectAlternativeNames: { match: { exact: [A_ID] } } }],
      ['a', policy, { certificate: ownCertificate, validation: rootTrust }],
    ],
    posture: 'mtls-san',
    facts: { providerChecksCallerSan: true },
    reason: /mutual TLS, b checks a's SAN/,
  },
  {
    name: 'listener SANs that accept the caller\'s DNS name through a wildcard: mutual TLS with SAN check',
    edits: [
      ['b', `${listenerTls}.validation`, { ...rootTrust, subjectAlternativeNames: { match: { exact: ['*.m.local'] } } }],
      ['a', policy, { certificate: ownCertificate, validation: rootTrust }],
    ],
    posture: 'mtls-san',
    reason: /checks a's SAN/,
  },
  {
    name: 'listener SANs that exclude the caller\'s certificate: broken',
    edits: [
      ['b', `${listenerTls}.validation`, { ...rootTrust, subjectAlternativeNames: { match: { exact: ['spiffe://meshd.local/mesh/m/virtualGateway/g'] } } }],
      ['a', policy, { certificate: ownCertificate, validation: rootTrust }],
    ],
    posture: 'broken',
    reason: /^b port 9090 accepts client SANs spiffe:\/\/meshd.local\/mesh\/m\/virtualGateway\/g but a's certificate is spiffe:\/\/meshd.local\/mesh\/m\/virtualNode\/a, a.m.local: handshakes fail/,
  },
  {
    name: 'a client certificate required, the caller without client policy: broken',
    edits: [['b', `${listenerTls}.validation`, rootTrust]],
    posture: 'broken',
    reason: /^b port 9090 requires a client certificate \(tls.validation\) but a presents none \(no client policy with a certificate enforces TLS on this port\)/,
  },
  {
    name: 'a client certificate required, the caller\'s policy covering other ports only: broken',
    edits: [['b', `${listenerTls}.validation`, rootTrust], ['a', policy, { ports: [1234], certificate: ownCertificate, validation: rootTrust }]],
    posture: 'broken',
    facts: { clientPolicyApplies: false },
    reason: /a presents none/,
  },
  {
    name: 'an enforcing client policy towards a plaintext port: broken',
    edits: [['b', listenerTls, undefined], ['a', policy, { validation: rootTrust }]],
    posture: 'broken',
    reason: /^a enforces TLS \(backendDefaults.clientPolicy\) but b port 9090 does not terminate TLS \(tls.mode none\): connections fail$/,
  },
  {
    name: 'a client policy with enforce false towards a plaintext port: plaintext (the policy is not used)',
    edits: [['b', listenerTls, undefined], ['a', policy, { enforce: false, validation: rootTrust }]],
    posture: 'plaintext',
    facts: { clientPolicyApplies: false },
    reason: /no client policy enforcing TLS/,
  },
  {
    name: 'a client policy whose SANs exclude the server\'s certificate: broken',
    edits: [['a', policy, { validation: { ...rootTrust, subjectAlternativeNames: { match: { exact: ['spiffe://meshd.local/mesh/m/virtualNode/other'] } } } }]],
    posture: 'broken',
    reason: /^a accepts server SANs spiffe:\/\/meshd.local\/mesh\/m\/virtualNode\/other \(backendDefaults.clientPolicy\) but b's certificate is spiffe:\/\/meshd.local\/mesh\/m\/virtualNode\/b, b.m.local/,
  },
  {
    name: 'a per-backend policy overrides backendDefaults',
    edits: [
      ['b', `${listenerTls}.validation`, rootTrust],
      ['a', policy, { validation: rootTrust }],
      ['a', 'spec.backends.0.virtualService.clientPolicy.tls', { certificate: ownCertificate, validation: rootTrust }],
    ],
    posture: 'mtls',
    facts: { clientPolicy: 'backend' },
    reason: /mutual TLS/,
  },
  {
    name: 'PERMISSIVE with mutual TLS and SAN check: PERMISSIVE wins (plaintext is still accepted)',
    edits: [
      ['b', listenerTls, { mode: 'PERMISSIVE', certificate: ownCertificate, validation: { ...rootTrust, subjectAlternativeNames: { match: { exact: [A_ID] } } } }],
      ['a', policy, { certificate: ownCertificate, validation: rootTrust }],
    ],
    posture: 'permissive',
    facts: { providerChecksCallerSan: true, callerPresentsCertificate: true },
    reason: /PERMISSIVE: it also accepts plaintext; a uses mutual TLS, b checks a's SAN/,
  },
];

function edgeOfA(files: SpecFiles): ReturnType<typeof meshGraphs>[number]['edges'][number] {
  const edges = meshGraphs(model(files))[0]!.edges.filter((edge) => edge.caller === 'mesh/m/virtualNode/a');
  assert.equal(edges.length, 1, `one path from a: ${edges.map((e) => e.id).join(', ')}`);
  return edges[0]!;
}

describe('posture/posture', () => {
  for (const row of rows) {
    it(row.name, () => {
      const files = baseMesh();
      for (const [resource, path, value] of row.edits) setIn(doc(files, resource), path, value);
      const edge = edgeOfA(files);
      assert.equal(edge.posture, row.posture, edge.reason);
      for (const [fact, value] of Object.entries(row.facts ?? {})) assert.equal(edge.facts[fact as keyof PostureFacts], value, `${fact}: ${edge.reason}`);
      assert.match(edge.reason, row.reason);
    });
  }
});
