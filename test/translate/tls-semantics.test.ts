// Table-driven: listener TLS modes and mutual TLS on the server side, and the client side's TLS
// origination (client policy vs the server's own settings, 003), from small meshes.
import { strict as assert } from 'node:assert';
import { baseMesh, doc, model, setIn, type SpecFiles } from '../model/fixtures';
import { TypeUrl } from '../../src/xds/type-urls';
import { checkedTranslation, clusterOf, commonTls, credential, listenerOf, noCredential, sansOf, trustOf, withCredential, type Msg } from './helpers';

const A = 'mesh/m/virtualNode/a';
const B = 'mesh/m/virtualNode/b';
const B_INGRESS = 'lds_ingress_0.0.0.0_15100';
const B_CLUSTER = 'cds_egress_m_b_http_9090';
const ACM = { acm: { certificateArn: 'arn:aws:acm:r:1:certificate/b' } };
const FILE_CERT = { file: { certificateChain: '/certs/b.pem', privateKey: '/certs/b.key' } };
const B_SPIFFE = 'spiffe://meshd.local/mesh/m/virtualNode/b';

function withB(tls: unknown, edit?: (files: SpecFiles) => void): SpecFiles {
  const files = baseMesh();
  setIn(doc(files, 'b'), 'spec.listeners', [{ portMapping: { port: 9090, protocol: 'http' }, ...(tls ? { tls } : {}) }]);
  edit?.(files);
  return files;
}

interface ChainView { transportProtocol?: string; tls: boolean; requireClientCertificate?: boolean }

function chains(listener: Msg): ChainView[] {
  return listener.filterChains.map((chain: Msg) => ({
    ...(chain.filterChainMatch?.transportProtocol ? { transportProtocol: chain.filterChainMatch.transportProtocol } : {}),
    tls: Boolean(chain.transportSocket),
    ...(chain.transportSocket?.typedConfig.requireClientCertificate ? { requireClientCertificate: chain.transportSocket.typedConfig.requireClientCertificate.value } : {}),
  }));
}

describe('translate/tls-semantics: listener TLS termination', () => {
  const rows: { name: string; tls: unknown; filters: string[]; chains: ChainView[]; sans?: string[]; trust?: string; certificate?: string }[] = [
    { name: 'STRICT: only a TLS chain', tls: { mode: 'STRICT', certificate: ACM }, filters: [], chains: [{ tls: true }], certificate: B_SPIFFE },
    {
      name: 'PERMISSIVE: TLS inspector, a chain on transport protocol tls and a plaintext chain',
      tls: { mode: 'PERMISSIVE', certificate: ACM }, filters: ['envoy.filters.listener.tls_inspector'],
      chains: [{ transportProtocol: 'tls', tls: true }, { tls: false }],
    },
    { name: 'DISABLED: plaintext only', tls: { mode: 'DISABLED', certificate: ACM }, filters: [], chains: [{ tls: false }] },
    { name: 'no tls: plaintext only', tls: undefined, filters: [], chains: [{ tls: false }] },
    {
      name: 'validation with SANs: mutual TLS, typed SAN matchers, CA over SDS',
      tls: { mode: 'STRICT', certificate: ACM, validation: { trust: { sds: { secretName: 'ROOTCA' } }, subjectAlternativeNames: { match: { exact: ['spiffe://meshd.local/mesh/m/virtualNode/a', 'a.m.local'] } } } },
      filters: [], chains: [{ tls: true, requireClientCertificate: true }],
      sans: ['URI:exact:spiffe://meshd.local/mesh/m/virtualNode/a', 'DNS:exact:a.m.local'], trust: 'ROOTCA',
    },
    {
      name: 'validation without SANs: client certificate required, SAN not checked',
      tls: { mode: 'STRICT', certificate: ACM, validation: { trust: { acm: { certificateAuthorityArns: ['arn:aws:acm-pca:r:1:certificate-authority/ca'] } } } },
      filters: [], chains: [{ tls: true, requireClientCertificate: true }], sans: [], trust: 'spiffe://meshd.local',
    },
    {
      name: 'file certificate and file trust: inline file names',
      tls: { mode: 'STRICT', certificate: FILE_CERT, validation: { trust: { file: { certificateChain: '/certs/ca.pem' } } } },
      filters: [], chains: [{ tls: true, requireClientCertificate: true }], sans: [], trust: 'file:/certs/ca.pem', certificate: 'file:/certs/b.pem',
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const r = checkedTranslation(model(withB(row.tls)), B);
      const ingress = listenerOf(r, B_INGRESS);
      assert.equal(ingress.statPrefix, '0.0.0.0_15100');
      assert.deepEqual((ingress.listenerFilters ?? []).map((f: Msg) => f.name), row.filters);
      assert.deepEqual(chains(ingress), row.chains);
      const tlsChain = ingress.filterChains.find((c: Msg) => c.transportSocket);
      if (row.sans) assert.deepEqual(sansOf(commonTls(tlsChain.transportSocket)), row.sans);
      if (row.trust) assert.equal(trustOf(commonTls(tlsChain.transportSocket)), row.trust);
      if (row.certificate) {
        const common = commonTls(tlsChain.transportSocket);
        const name = common.tlsCertificateSdsSecretConfigs?.[0].name ?? `file:${common.tlsCertificates[0].certificateChain.filename}`;
        assert.equal(name, row.certificate);
      }
      for (const chain of ingress.filterChains) {
        assert.equal(chain.filters[0].typedConfig.rds.routeConfigName, 'rds_ingress_m_b_http_9090');
      }
      assert.equal(r[TypeUrl.RouteConfiguration][0]!.message && (r[TypeUrl.RouteConfiguration].find((x) => x.name === 'rds_ingress_m_b_http_9090')!.message as Msg).virtualHosts[0].routes[0].route.cluster, 'cds_ingress_m_b_http_9090');
    });
  }
});

interface ClientRow {
  name: string;
  serverTls: unknown;
  policy?: unknown;
  defaults?: unknown;
  /** undefined: plaintext */
  expect?: { trust?: string; sans: string[]; certificate?: string };
}

const ROOTCA_TRUST = { trust: { sds: { secretName: 'ROOTCA' } } };

describe('translate/tls-semantics: TLS origination on egress clusters', () => {
  const rows: ClientRow[] = [
    {
      name: 'no policy, server STRICT with acm: TLS validated against the mesh CA, SAN = discovery name or SPIFFE ID',
      serverTls: { mode: 'STRICT', certificate: ACM },
      expect: { trust: 'spiffe://meshd.local', sans: ['DNS:exact:b.m.local', `URI:exact:${B_SPIFFE}`] },
    },
    {
      name: 'no policy, server PERMISSIVE with sds default (meshd-issued): validated like acm',
      serverTls: { mode: 'PERMISSIVE', certificate: { sds: { secretName: 'default' } } },
      expect: { trust: 'spiffe://meshd.local', sans: ['DNS:exact:b.m.local', `URI:exact:${B_SPIFFE}`] },
    },
    { name: 'no policy, server STRICT with a file certificate: TLS without validation', serverTls: { mode: 'STRICT', certificate: FILE_CERT }, expect: { sans: [] } },
    { name: 'no policy, server DISABLED: plaintext', serverTls: { mode: 'DISABLED', certificate: ACM } },
    { name: 'no policy, server without tls: plaintext', serverTls: undefined },
    {
      name: 'enforcing policy with SANs and a certificate: mutual TLS with typed SANs',
      serverTls: undefined,
      policy: { tls: { certificate: { sds: { secretName: 'default' } }, validation: { ...ROOTCA_TRUST, subjectAlternativeNames: { match: { exact: [B_SPIFFE, 'b.m.local'] } } } } },
      expect: { trust: 'ROOTCA', sans: [`URI:exact:${B_SPIFFE}`, 'DNS:exact:b.m.local'], certificate: 'default' },
    },
    {
      name: 'enforcing policy without SANs: the server discovery name (file-certificate server: DNS only)',
      serverTls: { mode: 'STRICT', certificate: FILE_CERT },
      policy: { tls: { validation: { trust: { file: { certificateChain: '/ca.pem' } } } } },
      expect: { trust: 'file:/ca.pem', sans: ['DNS:exact:b.m.local'] },
    },
    {
      name: 'enforcing policy on other ports only: the server decides (DISABLED: plaintext)',
      serverTls: { mode: 'DISABLED', certificate: ACM },
      policy: { tls: { ports: [1234], validation: ROOTCA_TRUST } },
    },
    {
      name: 'enforcing policy listing the server port: applies',
      serverTls: undefined,
      policy: { tls: { ports: [9090], certificate: { file: { certificateChain: '/a.pem', privateKey: '/a.key' } }, validation: ROOTCA_TRUST } },
      expect: { trust: 'ROOTCA', sans: ['DNS:exact:b.m.local'], certificate: 'file:/a.pem' },
    },
    {
      name: 'non-enforcing policy: the server decides (STRICT acm: mesh CA)',
      serverTls: { mode: 'STRICT', certificate: ACM },
      policy: { tls: { enforce: false, validation: { ...ROOTCA_TRUST, subjectAlternativeNames: { match: { exact: ['*.m.local'] } } } } },
      expect: { trust: 'spiffe://meshd.local', sans: ['DNS:exact:b.m.local', `URI:exact:${B_SPIFFE}`] },
    },
    {
      name: 'backendDefaults apply when the backend has no policy of its own',
      serverTls: undefined,
      defaults: { tls: { validation: { trust: { acm: { certificateAuthorityArns: ['arn:aws:acm-pca:r:1:certificate-authority/ca'] } }, subjectAlternativeNames: { match: { exact: ['b.m.local'] } } } } },
      expect: { trust: 'spiffe://meshd.local', sans: ['DNS:exact:b.m.local'] },
    },
    {
      name: 'a backend policy overrides backendDefaults',
      serverTls: undefined,
      policy: { tls: { validation: { ...ROOTCA_TRUST, subjectAlternativeNames: { match: { exact: ['override.m.local'] } } } } },
      defaults: { tls: { validation: { trust: { acm: { certificateAuthorityArns: ['arn:aws:acm-pca:r:1:certificate-authority/ca'] } } } } },
      expect: { trust: 'ROOTCA', sans: ['DNS:exact:override.m.local'] },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const files = withB(row.serverTls, (f) => {
        if (row.policy) setIn(doc(f, 'a'), 'spec.backends', [{ virtualService: { virtualServiceName: 'svc-b', clientPolicy: row.policy } }]);
        if (row.defaults) setIn(doc(f, 'a'), 'spec.backendDefaults', { clientPolicy: row.defaults });
      });
      const r = checkedTranslation(model(files), A);
      const cluster = clusterOf(r, B_CLUSTER);
      assert.equal(cluster.type, 'LOGICAL_DNS');
      if (!row.expect) {
        assert.equal(cluster.transportSocket, undefined);
        return;
      }
      assert.equal(cluster.transportSocket.name, 'envoy.transport_sockets.tls');
      assert.equal(cluster.transportSocket.typedConfig.sni, 'b.m.local');
      const common = commonTls(cluster.transportSocket);
      assert.equal(trustOf(common), row.expect.trust);
      assert.deepEqual(sansOf(common), row.expect.sans);
      const certificate = common.tlsCertificateSdsSecretConfigs?.[0].name
        ?? (common.tlsCertificates ? `file:${common.tlsCertificates[0].certificateChain.filename}` : undefined);
      assert.equal(certificate, row.expect.certificate);
    });
  }

  it('puts the node credential in every SDS config source, and none without a credential', () => {
    const files = withB({ mode: 'STRICT', certificate: ACM });
    const common = commonTls(clusterOf(checkedTranslation(model(files), A, withCredential), B_CLUSTER).transportSocket);
    const source = common.validationContextSdsSecretConfig ?? common.combinedValidationContext.validationContextSdsSecretConfig;
    assert.deepEqual(source.sdsConfig.apiConfigSource.grpcServices[0].initialMetadata, [{ key: credential.header, value: credential.value }]);
    assert.equal(source.sdsConfig.apiConfigSource.grpcServices[0].envoyGrpc.clusterName, 'meshd_sds');
    const bare = commonTls(clusterOf(checkedTranslation(model(files), A, noCredential), B_CLUSTER).transportSocket);
    const bareSource = bare.combinedValidationContext.validationContextSdsSecretConfig;
    assert.equal(bareSource.sdsConfig.apiConfigSource.grpcServices[0].initialMetadata, undefined);
    assert.equal(bareSource.sdsConfig.apiConfigSource.grpcServices[0].envoyGrpc.clusterName, 'meshd_sds');
  });

  it('sends no SNI for an IP service-discovery name (RFC 6066 allows host names only)', () => {
    const files = withB({ mode: 'STRICT', certificate: ACM }, (f) => setIn(doc(f, 'b'), 'spec.serviceDiscovery', { dns: { hostname: '10.0.0.7' } }));
    const cluster = clusterOf(checkedTranslation(model(files), A), B_CLUSTER);
    assert.equal(cluster.transportSocket.typedConfig.sni, undefined);
    assert.deepEqual(sansOf(commonTls(cluster.transportSocket)), ['IP_ADDRESS:exact:10.0.0.7', `URI:exact:${B_SPIFFE}`]);
  });
});
