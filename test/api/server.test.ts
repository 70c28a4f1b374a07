// The API's front door with real clients: SigV4 (unsigned, unknown key, wrong secret, wrong region,
// expired, replayed), read-only keys, the per-key rate limit, App Mesh's error shape on the wire,
// routing by the model, and the loopback default. A refused request changes nothing.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as AppMesh from '@aws-sdk/client-app-mesh';
import { ApiServer } from '../../src/api/server';
import { ApiHandlers } from '../../src/api/handlers';
import { KeyRing, revokeKey } from '../../src/api/keys';
import { appMeshModel } from '../../src/api/service-model';
import { DirectoryStore } from '../../src/store';
import { nodeSpec, startApiHarness, type ApiHarness } from './harness';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function raw(url: string, options: { method: string; path: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${options.path}`, { method: options.method, headers: options.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function errorOf(promise: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { $metadata: { httpStatusCode?: number } };
  }
  return assert.fail('the request was accepted');
}

describe('api/server', function () {
  this.timeout(30_000);
  let h: ApiHarness;

  beforeEach(async () => { h = await startApiHarness(); });
  afterEach(async () => h.close());

  it('refuses an unsigned request with 403 MissingAuthenticationTokenException in App Mesh\'s error shape', async () => {
    const res = await raw(h.server.url, { method: 'PUT', path: '/v20190125/meshes', headers: { 'content-type': 'application/json' }, body: '{"meshName":"app"}' });
    assert.equal(res.status, 403);
    assert.equal(res.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException');
    assert.match(res.headers['content-type'] ?? '', /application\/json/);
    assert.ok(res.headers['x-amzn-requestid']);
    assert.match((JSON.parse(res.body) as { message: string }).message, /Missing Authentication Token/);
    assert.deepEqual(fs.readdirSync(h.specDir), []);
  });

  it('refuses an unknown key, a wrong secret, another region and an expired signature, changing nothing', async () => {
    const unknown = await errorOf(h.client({ ...h.readWrite, accessKeyId: 'MSHDUNKNOWN' }).send(new AppMesh.CreateMeshCommand({ meshName: 'app' })));
    assert.equal(unknown.name, 'UnrecognizedClientException');
    assert.equal(unknown.$metadata.httpStatusCode, 403);
    const wrong = await errorOf(h.client({ ...h.readWrite, secretAccessKey: 'not-the-secret' }).send(new AppMesh.CreateMeshCommand({ meshName: 'app' })));
    assert.equal(wrong.name, 'InvalidSignatureException');
    assert.match(wrong.message, /signature we calculated does not match/);
    const region = await errorOf(h.client(h.readWrite, { region: 'us-west-2' }).send(new AppMesh.CreateMeshCommand({ meshName: 'app' })));
    assert.equal(region.name, 'InvalidSignatureException');
    assert.match(region.message, /valid region: 'eu-west-1'/);
    const skewed = h.client();
    // The SDK signs with its own clock plus this offset: ten minutes in the past.
    skewed.config.systemClockOffset = -10 * 60_000;
    const expired = await errorOf(skewed.send(new AppMesh.CreateMeshCommand({ meshName: 'app' })));
    assert.equal(expired.name, 'InvalidSignatureException');
    assert.match(expired.message, /Signature expired/);
    assert.deepEqual(fs.readdirSync(h.specDir), []);
  });

  it('refuses a replayed request, even a correctly signed one', async () => {
    const client = h.client();
    let captured: { method: string; path: string; headers: Record<string, string>; body: string } | undefined;
    client.middlewareStack.addRelativeTo(((next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
      const request = args.request as { method: string; path: string; headers: Record<string, string>; body?: string };
      captured ??= { method: request.method, path: request.path, headers: { ...request.headers }, body: request.body ?? '' };
      return next(args);
    }) as never, { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'capture' });
    await client.send(new AppMesh.CreateMeshCommand({ meshName: 'app' }));
    await client.send(new AppMesh.DeleteMeshCommand({ meshName: 'app' }));
    assert.ok(captured);
    const replay = await raw(h.server.url, captured);
    assert.equal(replay.status, 403);
    assert.equal(replay.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.match(replay.body, /already been used/);
    assert.deepEqual(fs.readdirSync(h.specDir), [], 'the replayed create did nothing');
  });

  it('lets a read-only key read and refuses its writes with ForbiddenException', async () => {
    await h.client().send(new AppMesh.CreateMeshCommand({ meshName: 'app' }));
    const reader = h.client(h.readOnly);
    assert.equal((await reader.send(new AppMesh.ListMeshesCommand({}))).meshes!.length, 1);
    const refused = await errorOf(reader.send(new AppMesh.CreateVirtualNodeCommand({ meshName: 'app', virtualNodeName: 'n', spec: nodeSpec('n.local') })));
    assert.equal(refused.name, 'ForbiddenException');
    assert.equal(refused.$metadata.httpStatusCode, 403);
    assert.match(refused.message, /read-only/);
    assert.deepEqual(fs.readdirSync(h.specDir), ['app.mesh.json']);
  });

  it('refuses a revoked key from its next request', async () => {
    const client = h.client();
    await client.send(new AppMesh.ListMeshesCommand({}));
    assert.ok(revokeKey(h.keysFile, h.readWrite.accessKeyId));
    assert.equal((await errorOf(client.send(new AppMesh.ListMeshesCommand({})))).name, 'UnrecognizedClientException');
  });

  it('answers a signed request the model has no route for with NotFoundException, a malformed body with BadRequestException', async () => {
    const client = h.client();
    // Changes the request before it is signed, so the signature is right and only the request is wrong.
    const edit = (change: (request: { path: string; body?: string }) => void): AppMesh.AppMeshClient => {
      const edited = h.client();
      edited.middlewareStack.addRelativeTo(((next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
        const request = args.request as { path: string; body?: string; headers: Record<string, string> };
        change(request);
        if (request.body !== undefined) request.headers['content-length'] = String(Buffer.byteLength(request.body));
        return next(args);
      }) as never, { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'edit' });
      return edited;
    };
    const unrouted = await errorOf(edit((request) => { request.path = '/v20190125/nothing-here'; }).send(new AppMesh.ListMeshesCommand({})));
    assert.equal(unrouted.name, 'NotFoundException');
    assert.match(unrouted.message, /no App Mesh 2019-01-25 operation answers GET \/v20190125\/nothing-here/);
    const malformed = await errorOf(edit((request) => { request.body = '{"meshName": '; }).send(new AppMesh.CreateMeshCommand({ meshName: 'app' })));
    assert.equal(malformed.name, 'BadRequestException');
    assert.match(malformed.message, /request body is not JSON/);
    const stranger = await errorOf(edit((request) => { request.body = '{"meshName": "app", "color": "blue"}'; }).send(new AppMesh.CreateMeshCommand({ meshName: 'app' })));
    assert.match(stranger.message, /color: is not a member of CreateMesh's input/);
    const missing = await errorOf(client.send(new AppMesh.CreateVirtualNodeCommand({ meshName: 'app', virtualNodeName: '', spec: nodeSpec('n.local') })));
    assert.equal(missing.name, 'BadRequestException');
    assert.match(missing.message, /virtualNodeName: is required/);
  });

  it('limits each key\'s request rate with 429 TooManyRequestsException', async () => {
    const limited = await startApiHarness({ ratePerSecond: 0.001, rateBurst: 3 });
    try {
      const client = limited.client();
      for (let i = 0; i < 3; i += 1) await client.send(new AppMesh.ListMeshesCommand({}));
      const throttled = await errorOf(client.send(new AppMesh.ListMeshesCommand({})));
      assert.equal(throttled.name, 'TooManyRequestsException');
      assert.equal(throttled.$metadata.httpStatusCode, 429);
      // Another key has its own budget.
      assert.deepEqual((await limited.client(limited.readOnly).send(new AppMesh.ListMeshesCommand({}))).meshes, []);
    } finally {
      await limited.close();
    }
  });

  it('refuses a body past the size limit with BadRequestException, and still answers', async () => {
    const small = await startApiHarness({ maxBodyBytes: 200 });
    try {
      const error = await errorOf(small.client().send(new AppMesh.CreateMeshCommand({ meshName: 'app', tags: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(20) })) })));
      assert.equal(error.name, 'BadRequestException');
      assert.match(error.message, /larger than 200 bytes/);
      assert.deepEqual(fs.readdirSync(small.specDir), []);
    } finally {
      await small.close();
    }
  });

  it('binds only loopback unless a public address is explicitly allowed', () => {
    const handlers = new ApiHandlers({ store: new DirectoryStore(h.specDir), arn: { region: 'us-east-1', account: '1' }, startedAt: new Date() });
    const options = { port: 0, model: appMeshModel(), handlers, keys: new KeyRing(h.keysFile), region: 'us-east-1', rateLimit: { perSecond: 1, burst: 1 } };
    assert.throws(() => new ApiServer({ ...options, host: '0.0.0.0' }), /not a loopback address.*--api-public/);
    assert.doesNotThrow(() => new ApiServer({ ...options, host: '0.0.0.0', allowPublic: true }));
    assert.doesNotThrow(() => new ApiServer({ ...options, host: '::1' }));
  });

  it('never logs or answers with a secret', async () => {
    const res = await raw(h.server.url, { method: 'GET', path: '/v20190125/meshes', headers: { authorization: `AWS4-HMAC-SHA256 Credential=${h.readWrite.accessKeyId}/20260101/eu-west-1/appmesh/aws4_request, SignedHeaders=host, Signature=00` } });
    assert.equal(res.status, 403);
    assert.ok(!res.body.includes(h.readWrite.secretAccessKey));
  });
});
