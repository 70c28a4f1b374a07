import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Meshd } from '../../src/runtime/meshd';
import { useMeshd } from '../support/meshd';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { TypeUrl } from '../../src/xds/type-urls';
import { resourceName, XdsTestClient, type SotwTestStream } from '../support/xds-client';
import { mtlsConnect, SdsProxy, startMtlsServer } from '../support/sds-proxy';
import type { RefusedChange } from '../../src/runtime/mesh-watcher';

const FRONT = 'mesh/colorapp/virtualNode/front';

describe('runtime/meshd', function () {
  this.timeout(30_000);
  const refused: RefusedChange[] = [];
  // Clients close before meshd stops (mocha runs afterEach hooks in the order they were added).
  afterEach(() => client.close());
  const fixture = useMeshd({
    options: (work) => ({
      xds: ['127.0.0.1:0', `unix:${path.join(work, 'xds.sock')}`],
      onRefused: (change) => refused.push(change),
    }),
  });
  let meshd: Meshd;
  let configDir: string;
  let client: XdsTestClient;
  beforeEach(() => {
    ({ meshd, configDir } = fixture);
    client = new XdsTestClient(meshd.xdsAddresses[0]!);
  });

  function adsFor(node: string, target?: XdsTestClient): SotwTestStream {
    const metadata = new grpc.Metadata();
    metadata.set(CREDENTIAL_HEADER, meshd.credentials.tokenFor(node));
    return (target ?? client).sotw('ads', metadata);
  }

  it('serves the demo mesh over ADS on TCP and the Unix socket, with App Mesh names', async () => {
    const unixClient = new XdsTestClient(meshd.xdsAddresses[1]!);
    try {
      for (const stream of [adsFor(FRONT), adsFor(FRONT, unixClient)]) {
        stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Listener });
        const listeners = await stream.next();
        assert.deepEqual(listeners.resources.map(resourceName), ['lds_egress_127.0.0.1_15101', 'lds_ingress_127.0.0.1_15100']);
        stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Cluster });
        const clusters = (await stream.next()).resources.map(resourceName);
        assert.ok(clusters.includes('cds_ingress_colorapp_front_http_8080'), clusters.join());
        assert.ok(clusters.some((c) => c.startsWith('cds_egress_colorapp_color-blue_http_')), clusters.join());
      }
    } finally {
      unixClient.close();
    }
  });

  it('refuses an invalid spec change, keeps serving the last good mesh, and pushes the fix', async () => {
    const stream = adsFor(FRONT);
    stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Cluster });
    const before = await stream.next();
    stream.ack(before);
    const frontFile = path.join(configDir, 'front.yaml');
    const good = fs.readFileSync(frontFile, 'utf8');
    fs.writeFileSync(frontFile, good.replace('mode: STRICT', 'mode: SOMETIMES'));
    const deadline = Date.now() + 5000;
    while (refused.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(refused[0]!.errors.map((e) => `${e.file}: ${e.resource}: ${e.path}: ${e.message}`).join('\n'), /front\.yaml: VirtualNode front: spec\.listeners\[0\]\.tls\.mode: must be STRICT, PERMISSIVE or DISABLED/);
    assert.ok(await stream.inbox.quiet(300), 'nothing is pushed for a refused change');
    assert.equal(meshd.watcher.current!.revision, 1);
    // The fix: a valid change (PERMISSIVE) goes out.
    fs.writeFileSync(frontFile, good.replace('mode: STRICT', 'mode: PERMISSIVE'));
    stream.send({ typeUrl: TypeUrl.Listener, node: { id: FRONT } });
    const listeners = await stream.next();
    stream.ack(listeners);
    const pushed = await stream.next(5000);
    assert.equal(pushed.typeUrl, TypeUrl.Listener);
    assert.notEqual(pushed.versionInfo, listeners.versionInfo);
    assert.equal(meshd.watcher.current!.revision, 2);
  });

  it('serves a proxy that asks for its own ports (node.metadata) a variant with its listeners there', async () => {
    const variant = adsFor(FRONT);
    variant.send({
      node: { id: FRONT, metadata: { fields: { 'meshd.ingress_port': { numberValue: 15300 }, 'meshd.egress_port': { stringValue: '15301' } } } } as never,
      typeUrl: TypeUrl.Listener,
    });
    const listeners = await variant.next();
    assert.deepEqual(listeners.resources.map(resourceName), ['lds_egress_127.0.0.1_15301', 'lds_ingress_127.0.0.1_15300']);
    variant.ack(listeners);
    variant.send({ typeUrl: TypeUrl.Cluster });
    const clusters = (await variant.next()).resources.map(resourceName);
    assert.ok(clusters.some((c) => c.startsWith('cds_egress_colorapp_color-blue_http_')), 'clusters are the endpoint\'s own');
    // A spec change reaches the variant too.
    const file = path.join(configDir, 'front.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('mode: STRICT', 'mode: PERMISSIVE'));
    const pushed = await variant.next(5000);
    assert.equal(pushed.typeUrl, TypeUrl.Listener);
    assert.deepEqual(pushed.resources.map(resourceName), ['lds_egress_127.0.0.1_15301', 'lds_ingress_127.0.0.1_15300']);

    const bad = adsFor(FRONT);
    bad.send({ node: { id: FRONT, metadata: { fields: { 'meshd.ingress_port': { numberValue: 70000 } } } } as never, typeUrl: TypeUrl.Listener });
    const status = await bad.inbox.ended();
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    assert.match(status.details, /meshd\.ingress_port.*must be a port/);
  });

  it('serves the node its certificate over SDS with its credential', async () => {
    const proxy = new SdsProxy(meshd.options.sdsSocket, FRONT, meshd.credentials.tokenFor(FRONT));
    try {
      const material = await proxy.until(() => true);
      assert.match(material.certificateChainPem, /BEGIN CERTIFICATE/);
    } finally {
      proxy.close();
    }
  });
});

describe('runtime/meshd with SPIRE-style SDS names (App Mesh SPIRE walkthrough)', function () {
  this.timeout(30_000);
  const TRUST_DOMAIN = 'howto-k8s-mtls-sds-based.aws';
  const FRONT_NODE = 'mesh/howto-k8s-mtls-sds-based/virtualNode/front';
  const BLUE_NODE = 'mesh/howto-k8s-mtls-sds-based/virtualNode/blue';
  const FRONT_ID = `spiffe://${TRUST_DOMAIN}/front`;
  const BLUE_ID = `spiffe://${TRUST_DOMAIN}/colorblue`;
  const BUNDLE = `spiffe://${TRUST_DOMAIN}`;
  let meshd: Meshd;
  const proxies: SdsProxy[] = [];
  const sds = (node: string, names: string[]): SdsProxy => {
    const proxy = new SdsProxy(meshd.options.sdsSocket, node, meshd.credentials.tokenFor(node), names);
    proxies.push(proxy);
    return proxy;
  };
  const uriSans = (pem: string): string[] =>
    (new X509Certificate(pem).subjectAltName ?? '').split(', ').filter((san) => san.startsWith('URI:')).map((san) => san.slice(4));

  afterEach(() => { proxies.splice(0).forEach((proxy) => proxy.close()); });
  const fixture = useMeshd({
    copyFrom: false,
    configDir: path.resolve(__dirname, '../../../test/fixtures/spire-mesh'),
    options: () => ({ trustDomain: TRUST_DOMAIN }),
  });
  beforeEach(() => { meshd = fixture.meshd; });

  it('issues each node a leaf whose URI SAN is exactly its SPIFFE ID, serves it and the bundle by those names, and they do mTLS with a SAN check', async () => {
    assert.ok(meshd.currentModel, 'the walkthrough spec is accepted');
    const front = sds(FRONT_NODE, [FRONT_ID, BUNDLE]);
    const blue = sds(BLUE_NODE, [BLUE_ID, BUNDLE]);
    const f = await front.until(() => true);
    const b = await blue.until(() => true);
    assert.deepEqual(front.received.map((secret) => secret.name).sort(), [BUNDLE, FRONT_ID]);
    assert.deepEqual(blue.received.map((secret) => secret.name).sort(), [BUNDLE, BLUE_ID]);
    assert.deepEqual(uriSans(f.certificateChainPem), [FRONT_ID]);
    assert.deepEqual(uriSans(b.certificateChainPem), [BLUE_ID]);

    // front calls blue: blue requires front's certificate, front checks blue's SAN as its client policy says.
    const { server, port, peers } = await startMtlsServer(blue);
    try {
      assert.equal(await mtlsConnect(port, { cert: f.certificateChainPem, key: f.privateKeyPem, ca: f.trustedCaPem }, BLUE_ID), b.serial);
      assert.deepEqual(peers[0]!.split(', ').filter((san) => san.startsWith('URI:')), [`URI:${FRONT_ID}`]);
    } finally {
      server.close();
    }

    // The configuration Envoy gets names the same secrets and SANs.
    const adsClient = new XdsTestClient(meshd.xdsAddresses[0]!);
    try {
      const ads = (node: string): SotwTestStream => {
        const metadata = new grpc.Metadata();
        metadata.set(CREDENTIAL_HEADER, meshd.credentials.tokenFor(node));
        return adsClient.sotw('ads', metadata);
      };
      const carries = (bytes: Uint8Array, text: string): boolean => Buffer.from(bytes).includes(text);
      const blueAds = ads(BLUE_NODE);
      blueAds.send({ node: { id: BLUE_NODE }, typeUrl: TypeUrl.Listener });
      const ingress = (await blueAds.next()).resources.find((resource) => resourceName(resource).startsWith('lds_ingress'))!;
      for (const name of [BLUE_ID, BUNDLE, FRONT_ID]) assert.ok(carries(ingress.value, name), `blue's ingress listener names ${name}`);
      const frontAds = ads(FRONT_NODE);
      frontAds.send({ node: { id: FRONT_NODE }, typeUrl: TypeUrl.Cluster });
      const egress = (await frontAds.next()).resources.find((resource) => resourceName(resource).startsWith('cds_egress_howto-k8s-mtls-sds-based_blue'))!;
      for (const name of [FRONT_ID, BUNDLE, BLUE_ID]) assert.ok(carries(egress.value, name), `front's cluster to blue names ${name}`);
    } finally {
      adsClient.close();
    }
  });

  it("refuses blue's SPIFFE ID to front by name, and keeps serving front its own", async () => {
    const blue = sds(BLUE_NODE, [BLUE_ID, BUNDLE]);
    const b = await blue.until(() => true);
    const greedy = sds(FRONT_NODE, [FRONT_ID, BUNDLE, BLUE_ID]);
    const own = await greedy.until(() => true);
    assert.deepEqual(greedy.received.map((secret) => secret.name).sort(), [BUNDLE, FRONT_ID]);
    assert.notEqual(own.privateKeyPem, b.privateKeyPem);
  });

  it('refuses an SDS stream from a credentialed node id that is not in the mesh, and issues it no certificate', async () => {
    const ghost = 'mesh/howto-k8s-mtls-sds-based/virtualNode/ghost';
    const client = new XdsTestClient(`unix:${meshd.options.sdsSocket}`);
    try {
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, meshd.credentials.tokenFor(ghost));
      const stream = client.sotw('sds', metadata);
      stream.send({ node: { id: ghost }, typeUrl: TypeUrl.Secret, resourceNames: ['default', 'ROOTCA'] });
      const status = await stream.inbox.ended();
      assert.equal(status.code, grpc.status.NOT_FOUND);
      assert.match(status.details, /mesh\/howto-k8s-mtls-sds-based\/virtualNode\/ghost is not an endpoint of the current mesh/);
      assert.equal(stream.inbox.pendingCount(), 0);
      assert.ok(!meshd.certificates.endpointIds().some((id) => id.endsWith('/ghost')), 'no certificate was issued for it');
      assert.match(await meshd.metrics.text(), /meshd_authorization_refusals_total\{reason="unknown_endpoint"\} 1/, 'and the refusal is counted');
    } finally {
      client.close();
    }
  });
});
