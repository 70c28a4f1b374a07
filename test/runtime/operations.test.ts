// What a running meshd says about its mesh: warnings of the served revision in the log and in
// /status, through the real `meshd serve` process and its admin endpoint.
import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startServe } from '../support/serve-process';

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
