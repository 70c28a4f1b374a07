// What a running meshd says about its mesh (warnings of the served revision in the log and in
// /status, through the real `meshd serve` process and its admin endpoint), and the operator's
// node credential actions, through the admin endpoint of a real meshd with real xDS/SDS streams.
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServe } from '../support/serve-process';
import { useMeshd } from '../support/meshd';
import { XdsTestClient, type SotwResponse, type SotwTestStream } from '../support/xds-client';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { TypeUrl } from '../../src/xds/type-urls';
import { runAdminAction } from '../../src/cli/admin-action';
import { runStatus } from '../../src/cli/status';
import type { StatusDocument } from '../../src/admin/server';

const EXAMPLE = path.resolve(__dirname, '../../../examples/colorapp');

describe('runtime/operations: mesh warnings', function () {
  this.timeout(40_000);
  let work: string;
  let child: ChildProcess | undefined;

  beforeEach(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-warnings-')); });
  afterEach(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('logs the Cloud Map attributes it ignores and lists them in /status for the served revision', async () => {
    const mesh = path.join(work, 'mesh');
    fs.cpSync(EXAMPLE, mesh, { recursive: true });
    // The demo's blue version found through Cloud Map with a version attribute.
    const colorFile = path.join(mesh, 'color.yaml');
    const color = fs.readFileSync(colorFile, 'utf8');
    const blueDiscovery = 'serviceDiscovery:\n    dns: { hostname: 127.0.0.1 }\nmeshd: { ingressPort: 15200';
    assert.ok(color.includes(blueDiscovery), 'the demo mesh changed: update this test');
    fs.writeFileSync(colorFile, color.replace(blueDiscovery,
      'serviceDiscovery:\n    awsCloudMap: { namespaceName: colorapp.local, serviceName: color, attributes: [{ key: version, value: blue }] }\nmeshd: { ingressPort: 15200'));

    const serve = await startServe(mesh, path.join(work, 'state'));
    child = serve.child;
    const stderr = serve.stderr();
    const expected = 'color.yaml: VirtualNode color-blue: spec.serviceDiscovery.awsCloudMap.attributes: ignored: meshd cannot query Cloud Map';
    const logged = stderr.split('\n').filter((line) => line.includes('mesh warning'));
    assert.equal(logged.length, 1, stderr);
    assert.ok(logged[0]!.includes(expected), logged[0]);

    const admin = serve.admin;
    const status = (await (await fetch(`${admin}/status`)).json()) as { mesh: { revision: string; warnings?: string[] } };
    assert.equal(status.mesh.revision, '1');
    assert.equal(status.mesh.warnings?.length, 1, JSON.stringify(status.mesh));
    assert.ok(status.mesh.warnings![0]!.startsWith(expected), status.mesh.warnings![0]);
  });
});

describe('runtime/operations: node credential rotation and revocation through the admin endpoint', function () {
  this.timeout(30_000);
  const fixture = useMeshd({ options: () => ({ admin: '127.0.0.1:0' }) });
  const FRONT = 'mesh/colorapp/virtualNode/front';
  const BLUE = 'mesh/colorapp/virtualNode/color-blue';
  const clients: XdsTestClient[] = [];
  afterEach(() => { for (const client of clients.splice(0)) client.close(); });

  function withToken(token: string): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set(CREDENTIAL_HEADER, token);
    return metadata;
  }

  /** An ADS stream (TCP) and an SDS stream (the Unix socket) of one node, each with a first answer. */
  async function connect(node: string, token: string): Promise<{ ads: SotwTestStream; sds: SotwTestStream }> {
    const adsClient = new XdsTestClient(fixture.meshd.xdsAddresses[0]!);
    const sdsClient = new XdsTestClient(`unix:${fixture.meshd.options.sdsSocket}`);
    clients.push(adsClient, sdsClient);
    const ads = adsClient.sotw('ads', withToken(token));
    ads.send({ node: { id: node }, typeUrl: TypeUrl.Listener });
    assert.equal((await ads.next()).typeUrl, TypeUrl.Listener);
    const sds = sdsClient.sotw('sds', withToken(token));
    sds.send({ node: { id: node }, typeUrl: TypeUrl.Secret, resourceNames: ['ROOTCA'] });
    assert.equal((await sds.next()).typeUrl, TypeUrl.Secret);
    return { ads, sds };
  }

  /** Whether any resource of these responses holds `token` (in its encoded bytes). */
  function carries(responses: SotwResponse[], token: string): boolean {
    return responses.some((response) => response.resources.some((resource) => Buffer.from(resource.value).includes(token)));
  }

  const admin = (): string => fixture.meshd.adminServer!.url;
  const status = async (): Promise<StatusDocument> => (await (await fetch(`${admin()}/status`)).json()) as StatusDocument;

  it('`meshd credentials revoke` ends that node\'s ADS and SDS streams, refuses its old bootstrap, never hands it the new token, and leaves the others alone', async () => {
    const oldFront = fixture.meshd.credentials.tokenFor(FRONT);
    const front = await connect(FRONT, oldFront);
    const blue = await connect(BLUE, fixture.meshd.credentials.tokenFor(BLUE));

    const result = await runAdminAction({ adminUrl: admin(), path: '/credentials/revoke', node: FRONT });
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.output, /revoked the credentials of mesh\/colorapp\/virtualNode\/front: 2 stream\(s\) ended/);
    for (const stream of [front.ads, front.sds]) {
      const ended = await stream.inbox.ended();
      assert.equal(ended.code, grpc.status.PERMISSION_DENIED);
      assert.match(ended.details, /revoked/);
    }
    const newFront = fixture.meshd.credentials.tokenFor(FRONT);
    assert.notEqual(newFront, oldFront);
    const received = [...front.ads.inbox.drain(), ...front.sds.inbox.drain()];
    assert.ok(!carries(received, newFront), 'the revoked proxy was never sent its successor token');
    assert.equal(blue.ads.inbox.status, undefined);
    assert.equal(blue.sds.inbox.status, undefined);

    const again = new XdsTestClient(fixture.meshd.xdsAddresses[0]!);
    clients.push(again);
    const refused = again.sotw('ads', withToken(oldFront));
    refused.send({ node: { id: FRONT }, typeUrl: TypeUrl.Listener });
    assert.equal((await refused.inbox.ended()).code, grpc.status.PERMISSION_DENIED);
    await connect(FRONT, newFront); // the bootstrap printed now works

    const doc = await status();
    assert.deepEqual(doc.nodeCredentials?.revoked.map((r) => r.endpoint), [FRONT]);
    const shown = await runStatus({ adminUrl: admin(), json: false, staleAfterSeconds: 300, color: false });
    assert.match(shown.output, /revoked: mesh\/colorapp\/virtualNode\/front \(/);

    const unknown = await runAdminAction({ adminUrl: admin(), path: '/credentials/revoke', node: 'not a node id' });
    assert.equal(unknown.exitCode, 1);
    assert.match(unknown.output, /\(400\)/);
  });

  it('`meshd credentials rotate` pushes the new token in the SDS config sources, keeps the old one for the overlap, and `meshd status` shows the deadline', async () => {
    const oldFront = fixture.meshd.credentials.tokenFor(FRONT);
    const front = await connect(FRONT, oldFront);
    const result = await runAdminAction({ adminUrl: admin(), path: '/credentials/rotate', params: { overlap: '3600' } });
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.output, /accepted until .*print every node's bootstrap again/);
    const newFront = fixture.meshd.credentials.tokenFor(FRONT);
    assert.notEqual(newFront, oldFront);
    // The listeners' SDS config sources now carry the new token (the proxy's next SDS streams use it).
    let listeners = await front.ads.next();
    while (listeners.typeUrl !== TypeUrl.Listener) listeners = await front.ads.next();
    assert.ok(carries([listeners], newFront), 'the new LDS carries the new token');
    assert.ok(!carries([listeners], oldFront), 'and not the old one');
    assert.equal(front.ads.inbox.status, undefined, 'the stream on the old key stays open during the overlap');

    const doc = await status();
    assert.equal(doc.nodeCredentials?.retiring.length, 1);
    const deadline = Date.parse(doc.nodeCredentials!.retiring[0]!.acceptedUntil);
    assert.ok(Math.abs(deadline - (Date.now() + 3600_000)) < 60_000, doc.nodeCredentials!.retiring[0]!.acceptedUntil);
    const shown = await runStatus({ adminUrl: admin(), json: false, staleAfterSeconds: 300, color: false });
    assert.match(shown.output, /retiring key [0-9a-f]{12}: accepted until \S+ \(60m left\)/);
    await connect(FRONT, oldFront); // still accepted within the overlap

    const bad = await runAdminAction({ adminUrl: admin(), path: '/credentials/rotate', params: { overlap: '-5' } });
    assert.equal(bad.exitCode, 1);
    assert.match(bad.output, /overlap=-5: expected a whole number of seconds/);
  });
});
