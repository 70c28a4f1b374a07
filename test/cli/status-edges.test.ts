// `meshd status --edges` against a real `meshd serve` on the demo mesh with a real xDS client:
// the paths and postures it prints are the model's, its proxy counts follow the client, and a
// spec change that breaks mutual TLS shows as a broken path with its reason and exit code 1.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CREDENTIAL_HEADER, NodeCredentials } from '../../src/auth/node-credential';
import { loadMesh } from '../../src/model/load-mesh';
import { meshGraphs, POSTURE_LABELS } from '../../src/posture';
import { TypeUrl } from '../../src/xds/type-urls';
import { runCli } from '../support/run-cli';
import { startServe, type ServeProcess } from '../support/serve-process';
import { openViewEvents, type ViewEvents } from '../support/view-events';
import { XdsTestClient } from '../support/xds-client';

const EXAMPLE = path.resolve(__dirname, '../../../examples/colorapp');
const FRONT = 'mesh/colorapp/virtualNode/front';

interface JsonEdge { mesh: string; caller: string; service: string; provider: string; port: number; posture: string; reason: string; callerSync: { proxies: number; inSync: number } }

describe('cli: meshd status --edges', function () {
  this.timeout(40_000);
  let work: string;
  let serve: ServeProcess;
  let events: ViewEvents;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-edges-'));
    fs.cpSync(EXAMPLE, path.join(work, 'mesh'), { recursive: true });
    serve = await startServe(path.join(work, 'mesh'), path.join(work, 'state'));
    events = await openViewEvents(serve.admin);
  });
  after(() => {
    events?.close();
    serve?.kill();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('prints the model\'s paths and postures, with the caller\'s proxy in sync', async () => {
    const client = new XdsTestClient(serve.ads);
    try {
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, NodeCredentials.load(path.join(work, 'state')).tokenFor(FRONT));
      const stream = client.sotw('ads', metadata);
      stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Cluster });
      stream.ack(await stream.next());
      await events.waitFor((view) => view.endpoints.some((e) => e.id === FRONT && e.sync.inSync === 1), 'front in sync');

      const loaded = await loadMesh(path.join(work, 'mesh'));
      assert.ok(loaded.ok);
      const expected = meshGraphs(loaded.model).flatMap((graph) => graph.edges.map((e) => `${graph.mesh} ${e.caller} ${e.service} ${e.provider} ${e.port} ${e.posture}`));

      const json = await runCli(['status', '--edges', '--json', '--admin', serve.admin]);
      assert.equal(json.code, 0, json.stdout + json.stderr);
      const edges = (JSON.parse(json.stdout) as { edges: JsonEdge[] }).edges;
      assert.deepEqual(edges.map((e) => `${e.mesh} ${e.caller} ${e.service} ${e.provider} ${e.port} ${e.posture}`), expected);
      assert.deepEqual(edges.filter((e) => e.caller === FRONT).map((e) => e.callerSync), [{ proxies: 1, inSync: 1 }, { proxies: 1, inSync: 1 }]);

      const table = await runCli(['status', '--edges', '--admin', serve.admin]);
      assert.equal(table.code, 0, table.stdout + table.stderr);
      assert.match(table.stdout, /^mesh colorapp: 3 paths$/m);
      assert.match(table.stdout, /^CALLER +SERVICE +PROVIDER +PORT +POSTURE +PROXIES IN SYNC$/m);
      assert.match(table.stdout, new RegExp(`^virtualGateway/gateway +front\\.colorapp\\.local +virtualNode/front +8080/http +${POSTURE_LABELS['mtls-san']} +0/0 -> 1/1$`, 'm'));
      assert.match(table.stdout, /^virtualNode\/front +color\.colorapp\.local \(color-router\) +virtualNode\/color-green +8082\/http +PERMISSIVE +1\/1 -> 0\/0$/m);
      stream.end();
      await events.waitFor((view) => view.endpoints.some((e) => e.id === FRONT && e.sync.proxies === 0), 'front gone');
    } finally {
      client.close();
    }
  });

  it('shows a path whose handshakes would fail as broken, with its reason, and exits 1', async () => {
    // The gateway stops presenting a client certificate; front still requires one.
    const file = path.join(work, 'mesh', 'gateway.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/ {8}certificate:\n {10}sds: \{ secretName: default \}\n/, ''));
    await events.waitFor((view) => view.meshes[0]?.edges.some((e) => e.posture === 'broken') ?? false, 'a broken path');
    const result = await runCli(['status', '--edges', '--admin', serve.admin]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /^ {2}broken: virtualGateway\/gateway -> front\.colorapp\.local -> virtualNode\/front: front port 8080 requires a client certificate \(tls\.validation\) but gateway presents none \(backendDefaults\.clientPolicy has no certificate\): handshakes fail$/m);
  });

  it('exits 2 naming the URL when the admin endpoint cannot be reached', async () => {
    const result = await runCli(['status', '--edges', '--admin', 'http://127.0.0.1:1']);
    assert.equal(result.code, 2);
    assert.match(result.stdout, /cannot reach meshd admin at http:\/\/127\.0\.0\.1:1\/view/);
  });
});
