// The operation table comes from App Mesh's model in the pinned aws-sdk package; where a botocore
// copy of the same model is on the machine (Debian's awscli, the Cloud SDK), both must agree, and
// the error status codes meshd answers with must be the model's.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { errorStatus } from '../../src/api/errors';
import { appMeshModel, project } from '../../src/api/service-model';

interface Botocore {
  operations: Record<string, { http: { method: string; requestUri: string; responseCode?: number }; errors?: { shape: string }[] }>;
  shapes: Record<string, { error?: { httpStatusCode: number } }>;
}

function botocoreModel(): { file: string; model: Botocore } | undefined {
  const candidates = ['/usr/lib/google-cloud-sdk/lib/third_party/botocore/data/appmesh/2019-01-25/service-2.json'];
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      const dir = execFileSync(python, ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      candidates.push(`${dir}/data/appmesh/2019-01-25/service-2.json`);
    } catch {
      // no botocore for this python
    }
  }
  const file = candidates.find((candidate) => fs.existsSync(candidate));
  return file ? { file, model: JSON.parse(fs.readFileSync(file, 'utf8')) as Botocore } : undefined;
}

describe('api/service-model', () => {
  const model = appMeshModel();

  it('has the 38 operations of App Mesh 2019-01-25, each routed by its own method and path', () => {
    assert.equal(model.apiVersion, '2019-01-25');
    assert.equal(model.signingName, 'appmesh');
    assert.equal(model.operations.size, 38);
    for (const operation of model.operations.values()) {
      const path = operation.requestUri.replace(/\{[^}]+\}/g, 'x');
      const matches = [...model.operations.values()].filter((other) => other.method === operation.method && other.pattern.test(path));
      assert.deepEqual(matches.map((m) => m.name), [operation.name], `${operation.method} ${path}`);
    }
    const list = model.operations.get('ListVirtualNodes')!;
    assert.equal(list.resultKey, 'virtualNodes');
    assert.ok(list.readOnly);
    assert.ok(model.operations.get('CreateVirtualNode')!.members.some((m) => m.name === 'clientToken' && m.idempotencyToken));
    assert.deepEqual(model.operations.get('CreateRoute')!.labels, ['meshName', 'virtualRouterName']);
  });

  it("keeps only the model's members in a response", () => {
    const output = model.operations.get('DescribeVirtualNode')!.output;
    const projected = project(model, output, { virtualNode: { meshName: 'm', virtualNodeName: 'n', spec: {}, extra: 1, metadata: { version: 2, secret: 'x' } } });
    assert.deepEqual(projected, { virtualNode: { meshName: 'm', virtualNodeName: 'n', spec: {}, metadata: { version: 2 } } });
  });

  it('agrees with the botocore copy of the model on this machine, error status codes included', function () {
    const found = botocoreModel();
    if (!found) {
      console.log('    skipped: no botocore copy of the App Mesh model on this machine');
      this.skip();
    }
    const { model: botocore } = found!;
    assert.deepEqual(Object.keys(botocore.operations).sort(), [...model.operations.keys()].sort());
    for (const [name, operation] of Object.entries(botocore.operations)) {
      const ours = model.operations.get(name)!;
      assert.deepEqual([ours.method, ours.requestUri, ours.responseCode], [operation.http.method, operation.http.requestUri, operation.http.responseCode ?? 200], name);
      for (const error of operation.errors ?? []) {
        assert.equal(errorStatus[error.shape as keyof typeof errorStatus], botocore.shapes[error.shape]!.error!.httpStatusCode, `${name}: ${error.shape}`);
      }
    }
  });
});
