import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { loadMesh } from '../../src/model/load-mesh';
import type { MeshModel } from '../../src/model/types';
import { formatErrors } from '../../src/spec/errors';
import { buildSnapshot, translateMesh } from '../../src/translate';
import { TypeUrl } from '../../src/xds/type-urls';
import { checkedTranslation, clusterOf, commonTls, credential, listenerOf, namesOf, routeOf, sansOf, trustOf, withCredential } from './helpers';

const examples = path.join(__dirname, '..', '..', '..', 'examples', 'colorapp');

async function colorapp(): Promise<MeshModel> {
  const result = await loadMesh(examples);
  if (!result.ok) throw new Error(formatErrors(result.errors));
  return result.model;
}

describe('translate/colorapp', () => {
  it('translates every endpoint into valid, consistent resources', async () => {
    const model = await colorapp();
    const ids = Object.keys(model.endpoints);
    assert.equal(ids.length, 4);
    for (const id of ids) {
      checkedTranslation(model, id);
      assert.deepEqual(buildSnapshot(model, id, withCredential).consistencyErrors(), []);
    }
  });

  it('front: STRICT mTLS ingress at 15100, egress to both color nodes with its own client policy', async () => {
    const model = await colorapp();
    const r = checkedTranslation(model, 'mesh/colorapp/virtualNode/front');
    assert.deepEqual(namesOf(r, TypeUrl.Listener), ['lds_egress_127.0.0.1_15101', 'lds_ingress_127.0.0.1_15100']);
    const ingress = listenerOf(r, 'lds_ingress_127.0.0.1_15100');
    assert.equal(ingress.statPrefix, '0.0.0.0_15100');
    assert.equal(ingress.filterChains.length, 1);
    const tls = ingress.filterChains[0].transportSocket.typedConfig;
    assert.deepEqual(tls.requireClientCertificate, { value: true });
    assert.deepEqual(sansOf(tls.commonTlsContext), ['URI:exact:spiffe://meshd.local/mesh/colorapp/virtualGateway/gateway']);
    assert.equal(trustOf(tls.commonTlsContext), 'spiffe://meshd.local');
    const sds = tls.commonTlsContext.tlsCertificateSdsSecretConfigs[0];
    assert.equal(sds.name, 'spiffe://meshd.local/mesh/colorapp/virtualNode/front');
    assert.deepEqual(sds.sdsConfig.apiConfigSource.grpcServices[0].initialMetadata, [{ key: credential.header, value: credential.value }]);
    assert.deepEqual(namesOf(r, TypeUrl.Cluster), [
      'cds_egress_colorapp_color-blue_http_8081', 'cds_egress_colorapp_color-green_http_8082', 'cds_ingress_colorapp_front_http_8080',
    ]);
    const blue = clusterOf(r, 'cds_egress_colorapp_color-blue_http_8081');
    assert.equal(blue.type, 'EDS');
    const upstream = commonTls(blue.transportSocket);
    assert.equal(trustOf(upstream), 'ROOTCA');
    assert.equal(upstream.tlsCertificateSdsSecretConfigs[0].name, 'default');
    assert.deepEqual(sansOf(upstream), [
      'URI:exact:spiffe://meshd.local/mesh/colorapp/virtualNode/color-blue',
      'URI:exact:spiffe://meshd.local/mesh/colorapp/virtualNode/color-green',
    ]);
    const eds = r[TypeUrl.ClusterLoadAssignment].find((x) => x.name === 'cds_egress_colorapp_color-blue_http_8081')!.message as Record<string, any>;
    assert.deepEqual(eds.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress, { address: '127.0.0.1', portValue: 15200 });
    const egress = routeOf(r, 'rds_egress_http_15101');
    const host = egress.virtualHosts[0];
    assert.deepEqual(host.domains, ['color.colorapp.local', 'color.colorapp.local:8080']);
    const action = host.routes[0].route;
    assert.deepEqual(action.weightedClusters.clusters, [
      { name: 'cds_egress_colorapp_color-blue_http_8081', weight: { value: 80 } },
      { name: 'cds_egress_colorapp_color-green_http_8082', weight: { value: 20 } },
    ]);
    assert.equal(action.retryPolicy.retryOn, 'gateway-error');
    assert.deepEqual(action.retryPolicy.numRetries, { value: 2 });
  });

  it('color-green: PERMISSIVE listener has a TLS inspector, a tls chain and a plaintext chain', async () => {
    const model = await colorapp();
    const r = checkedTranslation(model, 'mesh/colorapp/virtualNode/color-green');
    const ingress = listenerOf(r, 'lds_ingress_127.0.0.1_15300');
    assert.deepEqual(ingress.listenerFilters.map((f: { name: string }) => f.name), ['envoy.filters.listener.tls_inspector']);
    assert.deepEqual(ingress.filterChains.map((c: Record<string, any>) => [c.filterChainMatch?.transportProtocol, Boolean(c.transportSocket)]), [['tls', true], [undefined, false]]);
  });

  it('gateway: TLS termination at its ingress port, routes to front with mTLS from backendDefaults', async () => {
    const model = await colorapp();
    const r = checkedTranslation(model, 'mesh/colorapp/virtualGateway/gateway');
    const ingress = listenerOf(r, 'lds_ingress_127.0.0.1_15000');
    assert.equal(ingress.statPrefix, '0.0.0.0_15000');
    const tls = ingress.filterChains[0].transportSocket.typedConfig;
    assert.equal(tls.requireClientCertificate, undefined);
    assert.equal(tls.commonTlsContext.tlsCertificateSdsSecretConfigs[0].name, 'spiffe://meshd.local/mesh/colorapp/virtualGateway/gateway');
    const routes = routeOf(r, 'rds_ingress_colorapp_gateway_http_8080');
    assert.equal(routes.virtualHosts[0].routes[0].route.cluster, 'cds_egress_colorapp_front_http_8080');
    assert.equal(routes.virtualHosts[0].routes[0].route.hostRewriteLiteral, 'front.colorapp.local');
    const front = commonTls(clusterOf(r, 'cds_egress_colorapp_front_http_8080').transportSocket);
    assert.deepEqual(sansOf(front), ['URI:exact:spiffe://meshd.local/mesh/colorapp/virtualNode/front']);
    assert.equal(trustOf(front), 'spiffe://meshd.local');
    assert.equal(front.tlsCertificateSdsSecretConfigs[0].name, 'default');
  });

  it('re-translating an unchanged mesh reuses every snapshot object', async () => {
    const model = await colorapp();
    const first = translateMesh(model, withCredential);
    assert.equal(first.rebuilt.length, 4);
    const second = translateMesh(await colorapp(), withCredential, first);
    assert.deepEqual(second.rebuilt, []);
    for (const [id, snapshot] of second.snapshots) assert.equal(snapshot, first.snapshots.get(id));
    const rotated = translateMesh(model, { credentialFor: (id) => (id.endsWith('/front') ? { ...credential, value: 'other' } : credential) }, second);
    assert.deepEqual(rotated.rebuilt, ['mesh/colorapp/virtualNode/front']);
  });
});
