// The proxyless gRPC form of a virtual node: which form each endpoint gets, the A36 server
// listener per TLS mode, and the client side (API listeners, routes, clusters with A29 TLS,
// endpoints) per the same 003 rules as Envoy. Every resource is also put through grpc-js-xds's
// own resource validation (the code a proxyless client runs on what meshd sends it).
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as grpcXds from '@grpc/grpc-js-xds';
import { ClusterResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/cluster-resource-type';
import { EndpointResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type';
import { ListenerResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/listener-resource-type';
import { RouteConfigurationResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type';
import type { XdsResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/xds-resource-type';
import { validateBootstrapConfig } from '@grpc/grpc-js-xds/build/src/xds-bootstrap';
import { buildGrpcBootstrap } from '../../src/envoy/grpc-bootstrap';
import { loadMesh } from '../../src/model/load-mesh';
import { formatErrors } from '../../src/spec/errors';
import type { MeshModel } from '../../src/model/types';
import { buildSnapshot, formOf, grpcServerListenerName, translateMesh, type EndpointResources } from '../../src/translate';
import { TypeUrl } from '../../src/xds/type-urls';
import { baseMesh, doc, model, setIn, type SpecFiles } from '../model/fixtures';
import { checkedTranslation, clusterOf, listenerOf, namesOf, resource, routeOf, withCredential, type Msg } from './helpers';

const A = 'mesh/m/virtualNode/a';
const B = 'mesh/m/virtualNode/b';
const G = 'mesh/m/virtualGateway/g';
const ACM = { acm: { certificateArn: 'arn:aws:acm:r:1:certificate/b' } };
const FILE_CERT = { file: { certificateChain: '/certs/b.pem', privateKey: '/certs/b.key' } };
const A_SPIFFE = 'spiffe://meshd.local/mesh/m/virtualNode/a';
const B_SPIFFE = 'spiffe://meshd.local/mesh/m/virtualNode/b';
const B_SERVER = grpcServerListenerName('127.0.0.1', 9090);
const B_CLUSTER = 'cds_egress_m_b_grpc_9090';
const PROXYLESS = { proxyless: true, address: '127.0.0.1' };

/** The base mesh with `a` and `b` proxyless gRPC services, b's listener TLS as given. */
function proxylessMesh(tls: unknown, edit?: (files: SpecFiles) => void): SpecFiles {
  const files = baseMesh();
  setIn(doc(files, 'a'), 'meshd', PROXYLESS);
  setIn(doc(files, 'a'), 'spec.listeners', [{ portMapping: { port: 8080, protocol: 'grpc' } }]);
  setIn(doc(files, 'b'), 'meshd', PROXYLESS);
  setIn(doc(files, 'b'), 'spec.listeners', [{ portMapping: { port: 9090, protocol: 'grpc' }, ...(tls ? { tls } : {}) }]);
  setIn(doc(files, 'r'), 'spec.listeners', [{ portMapping: { port: 9090, protocol: 'grpc' } }]);
  setIn(doc(files, 'rt'), 'spec', { grpcRoute: { match: {}, action: { weightedTargets: [{ virtualNode: 'b', weight: 100 }] } } });
  delete (files as Record<string, unknown>)['gateway.yaml'];
  edit?.(files);
  return files;
}

/** grpc-js-xds's decode context: a bootstrap as `meshd bootstrap --grpc --cert-dir` writes it. */
const grpcContext = (() => {
  const bootstrap = validateBootstrapConfig(buildGrpcBootstrap({ nodeId: A, certDir: '/certs' }));
  return { bootstrap, server: bootstrap.xdsServers[0]! };
})();

/** Fails with every error grpc-js-xds reports on the endpoint's resources. */
function assertGrpcAccepts(meshModel: MeshModel, endpointId: string): void {
  grpcXds.register(); // registers the HTTP filters (router) its listener validation looks up
  const snapshot = buildSnapshot(meshModel, endpointId, withCredential);
  const types: [TypeUrl, XdsResourceType][] = [
    [TypeUrl.Listener, ListenerResourceType.get()],
    [TypeUrl.RouteConfiguration, RouteConfigurationResourceType.get()],
    [TypeUrl.Cluster, ClusterResourceType.get()],
    [TypeUrl.ClusterLoadAssignment, EndpointResourceType.get()],
  ];
  const errors: string[] = [];
  for (const [typeUrl, type] of types) {
    for (const encoded of snapshot.get(typeUrl)?.resources.values() ?? []) {
      const result = type.decode(grpcContext, { type_url: typeUrl, value: Buffer.from(encoded.value) });
      if (result.error) errors.push(`${encoded.name}: ${result.error}`);
      else assert.equal(result.name, encoded.name);
    }
  }
  assert.deepEqual(errors, []);
}

function translated(files: SpecFiles, endpointId: string): EndpointResources {
  const meshModel = model(files);
  assertGrpcAccepts(meshModel, endpointId);
  return checkedTranslation(meshModel, endpointId);
}

const typed = (message: Msg): Msg => message.typedConfig as Msg;

describe('translate/proxyless: the form each endpoint gets', () => {
  it('serves proxyless virtual nodes the gRPC form and every other endpoint the Envoy form', () => {
    const files = proxylessMesh(undefined);
    setIn(doc(files, 'a'), 'meshd', { proxyless: false });
    files['gateway.yaml'] = baseMesh()['gateway.yaml']!;
    const meshModel = model(files);
    assert.equal(formOf(meshModel.endpoints[A]!), 'envoy');
    assert.equal(formOf(meshModel.endpoints[B]!), 'grpc');
    assert.equal(formOf(meshModel.endpoints[G]!), 'envoy');
    assert.deepEqual([...translateMesh(meshModel, withCredential).forms], [[G, 'envoy'], [A, 'envoy'], [B, 'grpc']]);
    assert.ok(namesOf(checkedTranslation(meshModel, B), TypeUrl.Listener).includes(B_SERVER));
  });
});

describe('translate/proxyless: A36 server listener', () => {
  const VALIDATION = { trust: { sds: { secretName: 'ROOTCA' } }, subjectAlternativeNames: { match: { exact: [A_SPIFFE] } } };
  const rows: { name: string; tls: unknown; expect?: { requireClientCertificate: boolean; sans?: string[] } }[] = [
    { name: 'STRICT with validation: mutual TLS from the provider instance, client SANs carried', tls: { mode: 'STRICT', certificate: ACM, validation: VALIDATION }, expect: { requireClientCertificate: true, sans: [A_SPIFFE] } },
    { name: 'STRICT without validation: TLS, no client certificate asked for', tls: { mode: 'STRICT', certificate: ACM }, expect: { requireClientCertificate: false } },
    { name: 'PERMISSIVE: TLS only (gRPC cannot tell TLS from plaintext on one port)', tls: { mode: 'PERMISSIVE', certificate: { sds: { secretName: 'default' } } }, expect: { requireClientCertificate: false } },
    { name: 'DISABLED: plaintext', tls: { mode: 'DISABLED', certificate: ACM } },
    { name: 'no tls: plaintext', tls: undefined },
    { name: 'file certificate: still the provider instance (gRPC reads no paths from xDS)', tls: { mode: 'STRICT', certificate: FILE_CERT }, expect: { requireClientCertificate: false } },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const listener = listenerOf(translated(proxylessMesh(row.tls), B), B_SERVER);
      assert.equal(listener.name, 'grpc/server?xds.resource.listening_address=127.0.0.1:9090');
      assert.deepEqual(listener.address, { socketAddress: { address: '127.0.0.1', portValue: 9090 } });
      assert.equal(listener.filterChains.length, 1);
      const [chain] = listener.filterChains as Msg[];
      assert.equal(chain!.filterChainMatch, undefined, 'grpc-js-xds ignores chains matched on anything but raw_buffer');
      const hcm = typed(chain!.filters[0]);
      assert.deepEqual(hcm.routeConfig.virtualHosts[0].routes.map((r: Msg) => r.nonForwardingAction), [{}]);
      assert.deepEqual(hcm.httpFilters.map((f: Msg) => typed(f)['@type']), ['type.googleapis.com/envoy.extensions.filters.http.router.v3.Router']);
      if (!row.expect) {
        assert.equal(chain!.transportSocket, undefined);
        return;
      }
      const context = typed(chain!.transportSocket);
      assert.equal(context['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
      assert.deepEqual(context.commonTlsContext.tlsCertificateProviderInstance, { instanceName: 'meshd' });
      assert.equal(context.requireClientCertificate?.value ?? false, row.expect.requireClientCertificate);
      const validation = context.commonTlsContext.validationContext;
      if (!row.expect.requireClientCertificate) {
        assert.equal(validation, undefined);
        return;
      }
      assert.deepEqual(validation.caCertificateProviderInstance, { instanceName: 'meshd' });
      assert.deepEqual(validation.matchSubjectAltNames, row.expect.sans!.map((exact) => ({ exact })));
    });
  }

  it('serves the wildcard addresses a server binds and its own, each listener with its own socket address', () => {
    const r = translated(proxylessMesh(undefined), B);
    const expected = [['0.0.0.0', '0.0.0.0:9090'], ['::', '[::]:9090'], ['127.0.0.1', '127.0.0.1:9090']] as const;
    assert.deepEqual(namesOf(r, TypeUrl.Listener).sort(), expected.map(([, bound]) => `grpc/server?xds.resource.listening_address=${bound}`).sort());
    for (const [address] of expected) assert.deepEqual(listenerOf(r, grpcServerListenerName(address, 9090)).address, { socketAddress: { address, portValue: 9090 } });
  });

  it('without meshd.address: the wildcards and an IP service-discovery host', () => {
    const files = proxylessMesh(undefined, (f) => {
      setIn(doc(f, 'b'), 'meshd', { proxyless: true });
      setIn(doc(f, 'b'), 'spec.serviceDiscovery', { dns: { hostname: '10.0.0.7' } });
    });
    assert.deepEqual(namesOf(translated(files, B), TypeUrl.Listener).sort(), ['0.0.0.0', '10.0.0.7', '::'].map((a) => grpcServerListenerName(a, 9090)).sort());
    const byName = proxylessMesh(undefined, (f) => setIn(doc(f, 'b'), 'meshd', { proxyless: true }));
    assert.deepEqual(namesOf(translated(byName, B), TypeUrl.Listener).sort(), ['0.0.0.0', '::'].map((a) => grpcServerListenerName(a, 9090)).sort());
  });

  it('names an IPv6 listening address in brackets, as the server binds it', () => {
    const files = proxylessMesh(undefined, (f) => setIn(doc(f, 'b'), 'meshd', { proxyless: true, address: '::1' }));
    const listener = listenerOf(translated(files, B), grpcServerListenerName('::1', 9090));
    assert.equal(listener.name, 'grpc/server?xds.resource.listening_address=[::1]:9090');
    assert.equal(listener.address.socketAddress.address, '::1');
  });
});

describe('translate/proxyless: client resources', () => {
  const ROOTCA = { trust: { sds: { secretName: 'ROOTCA' } } };
  const rows: { name: string; serverTls: unknown; policy?: unknown; expect?: { sans: string[]; certificate: boolean } }[] = [
    {
      name: 'enforcing policy with SANs and a certificate: mutual TLS, those SANs',
      serverTls: { mode: 'STRICT', certificate: ACM },
      policy: { tls: { certificate: { sds: { secretName: 'default' } }, validation: { ...ROOTCA, subjectAlternativeNames: { match: { exact: [B_SPIFFE] } } } } },
      expect: { sans: [B_SPIFFE], certificate: true },
    },
    {
      name: 'no policy, meshd-issued server certificate: TLS against the CA bundle, SAN = discovery name or SPIFFE ID',
      serverTls: { mode: 'STRICT', certificate: ACM }, expect: { sans: ['b.m.local', B_SPIFFE], certificate: false },
    },
    {
      name: 'no policy, file server certificate: gRPC cannot skip verification, so it verifies against the bundle (fails closed)',
      serverTls: { mode: 'STRICT', certificate: FILE_CERT }, expect: { sans: [], certificate: false },
    },
    { name: 'no policy, server DISABLED: plaintext', serverTls: { mode: 'DISABLED', certificate: ACM } },
    { name: 'policy on other ports, server without tls: plaintext', serverTls: undefined, policy: { tls: { ports: [1], validation: ROOTCA } } },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const files = proxylessMesh(row.serverTls, (f) => {
        if (row.policy) setIn(doc(f, 'a'), 'spec.backends', [{ virtualService: { virtualServiceName: 'svc-b', clientPolicy: row.policy } }]);
      });
      const r = translated(files, A);
      const cluster = clusterOf(r, B_CLUSTER);
      if (!row.expect) {
        assert.equal(cluster.transportSocket, undefined);
        return;
      }
      const context = typed(cluster.transportSocket);
      assert.equal(context['@type'], 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
      const common = context.commonTlsContext;
      assert.deepEqual(common.tlsCertificateProviderInstance, row.expect.certificate ? { instanceName: 'meshd' } : undefined);
      assert.deepEqual(common.validationContext.caCertificateProviderInstance, { instanceName: 'meshd' });
      assert.deepEqual(common.validationContext.matchSubjectAltNames ?? [], row.expect.sans.map((exact) => ({ exact })));
      assert.equal(common.tlsCertificateSdsSecretConfigs, undefined, 'gRPC does not speak SDS');
    });
  }

  it('API listeners by the dialled names, routes with weighted clusters, endpoints at the targets\' listener ports', () => {
    const files = proxylessMesh({ mode: 'STRICT', certificate: ACM }, (f) => {
      const nodes = f['nodes.yaml']!;
      nodes.push({
        kind: 'VirtualNode', meshName: 'm', virtualNodeName: 'b2',
        spec: { listeners: [{ portMapping: { port: 9191, protocol: 'grpc' } }], serviceDiscovery: { dns: { hostname: '10.0.0.2' } } },
        meshd: { ingressPort: 15200, egressPort: 15201, adminPort: 9921 },
      });
      setIn(doc(f, 'rt'), 'spec', { grpcRoute: { match: { serviceName: 'demo.Greeter' }, action: { weightedTargets: [{ virtualNode: 'b', weight: 50 }, { virtualNode: 'b2', weight: 50 }] } } });
    });
    const r = translated(files, A);
    assert.deepEqual(namesOf(r, TypeUrl.Listener).sort(), [...['0.0.0.0', '::', '127.0.0.1'].map((a) => grpcServerListenerName(a, 8080)), 'svc-b', 'svc-b:9090'].sort());
    const api = listenerOf(r, 'svc-b').apiListener.apiListener as Msg;
    assert.equal(api['@type'], 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
    assert.equal(api.rds.routeConfigName, 'rds_grpc_svc-b_9090');
    const host = routeOf(r, 'rds_grpc_svc-b_9090').virtualHosts[0];
    assert.deepEqual(host.domains, ['svc-b', 'svc-b:9090']);
    assert.equal(host.routes[0].match.prefix, '/demo.Greeter/');
    assert.deepEqual(host.routes[0].route.weightedClusters.clusters, [
      { name: 'cds_egress_m_b2_grpc_9191', weight: { value: 50 } },
      { name: 'cds_egress_m_b_grpc_9090', weight: { value: 50 } },
    ]);
    // b is proxyless (its own listener port, DNS name: LOGICAL_DNS); b2 runs Envoy (its ingress port, an IP: EDS).
    const b = clusterOf(r, B_CLUSTER);
    assert.equal(b.type, 'LOGICAL_DNS');
    assert.deepEqual(b.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress, { address: 'b.m.local', portValue: 9090 });
    assert.equal(clusterOf(r, 'cds_egress_m_b2_grpc_9191').type, 'EDS');
    const assignment = resource(r, TypeUrl.ClusterLoadAssignment, 'cds_egress_m_b2_grpc_9191');
    assert.deepEqual(assignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress, { address: '10.0.0.2', portValue: 15200 });
    assert.deepEqual(assignment.endpoints[0].locality, {});
  });

  it('an Envoy client of a proxyless server reaches it on its listener port, not an ingress port', () => {
    const files = proxylessMesh({ mode: 'STRICT', certificate: ACM }, (f) => setIn(doc(f, 'a'), 'meshd', { proxyless: false }));
    const cluster = clusterOf(checkedTranslation(model(files), A), B_CLUSTER);
    assert.deepEqual(cluster.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress, { address: 'b.m.local', portValue: 9090 });
    assert.ok(cluster.transportSocket.typedConfig.commonTlsContext.combinedValidationContext, 'the Envoy form keeps SDS');
  });
});

describe('translate/proxyless: examples/proxyless', () => {
  it('translates both nodes into the gRPC form that grpc-js-xds accepts', async () => {
    const loaded = await loadMesh(path.join(__dirname, '..', '..', '..', 'examples', 'proxyless'));
    if (!loaded.ok) throw new Error(formatErrors(loaded.errors));
    const greeter = 'mesh/demo/virtualNode/greeter';
    const caller = 'mesh/demo/virtualNode/caller';
    for (const id of [greeter, caller]) {
      assert.equal(formOf(loaded.model.endpoints[id]!), 'grpc');
      assertGrpcAccepts(loaded.model, id);
      checkedTranslation(loaded.model, id);
    }
    assert.deepEqual(namesOf(checkedTranslation(loaded.model, greeter), TypeUrl.Listener).sort(), ['0.0.0.0', '::', '127.0.0.1'].map((a) => grpcServerListenerName(a, 50051)).sort());
    assert.deepEqual(namesOf(checkedTranslation(loaded.model, caller), TypeUrl.Listener), ['greeter.demo.local', 'greeter.demo.local:50051']);
  });
});
