import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CREDENTIAL_HEADER, CREDENTIAL_NODE_METADATA_KEY, NodeCredentials } from '../../src/auth/node-credential';
import { TypeUrl } from '../../src/xds/type-urls';
import { basicSnapshot, startTestServer, type TestServer } from '../support/fixtures';
import { XdsTestClient } from '../support/xds-client';

const FRONT = 'mesh/demo/virtualNode/front';
const BACK = 'mesh/demo/virtualNode/back';

function withToken(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(CREDENTIAL_HEADER, token);
  return metadata;
}

describe('auth/node-credential', () => {
  let dir: string;
  let credentials: NodeCredentials;
  let env: TestServer;
  let client: XdsTestClient;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-cred-'));
    credentials = NodeCredentials.loadOrCreate(dir);
    env = await startTestServer({ identify: credentials.identifier() });
    env.cache.setSnapshot(FRONT, basicSnapshot());
    env.cache.setSnapshot(BACK, basicSnapshot());
    client = new XdsTestClient(env.unixTarget);
  });
  afterEach(async () => {
    client.close();
    await env.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its key 0600 in the state directory and reuses it across restarts', () => {
    const keyFile = path.join(dir, 'node-credential.key');
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(NodeCredentials.loadOrCreate(dir).tokenFor(FRONT), credentials.tokenFor(FRONT));
    assert.equal(credentials.tokenFor(`arn:aws:appmesh:us-east-1:111122223333:${FRONT}`), credentials.tokenFor(FRONT));
    assert.notEqual(credentials.tokenFor(BACK), credentials.tokenFor(FRONT));
  });

  it('serves a node presenting its own credential in gRPC metadata', async () => {
    const stream = client.sotw('ads', withToken(credentials.tokenFor(FRONT)));
    stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Cluster });
    assert.equal((await stream.next()).typeUrl, TypeUrl.Cluster);
  });

  it('accepts the credential from node.metadata for clients that cannot set call metadata', async () => {
    const stream = client.sotw();
    stream.send({ node: { id: FRONT, metadata: { fields: { [CREDENTIAL_NODE_METADATA_KEY]: { stringValue: credentials.tokenFor(FRONT) } } } } as never, typeUrl: TypeUrl.Cluster });
    assert.equal((await stream.next()).typeUrl, TypeUrl.Cluster);
  });

  const refusals: [string, () => grpc.Metadata, RegExp][] = [
    ['no credential', () => new grpc.Metadata(), /no credential for mesh\/demo\/virtualNode\/front/],
    ['a malformed credential', () => withToken('hello'), /not valid for mesh\/demo\/virtualNode\/front/],
    ['another node\'s credential (a forged node id)', () => withToken(credentials.tokenFor(BACK)), /not valid for mesh\/demo\/virtualNode\/front/],
    ['a credential from another meshd', () => withToken(NodeCredentials.withKey(Buffer.alloc(32, 7)).tokenFor(FRONT)), /not valid/],
  ];
  for (const [what, metadata, message] of refusals) {
    it(`refuses ${what} with PERMISSION_DENIED and sends nothing`, async () => {
      const stream = client.sotw('ads', metadata());
      stream.send({ node: { id: FRONT }, typeUrl: TypeUrl.Cluster });
      const status = await stream.inbox.ended();
      assert.equal(status.code, grpc.status.PERMISSION_DENIED);
      assert.match(status.details, message);
      assert.equal(stream.inbox.pendingCount(), 0, 'no response was sent before the refusal');
    });
  }

  it('load() never creates a key: a missing one is an error naming the file', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-cred-empty-'));
    try {
      assert.throws(() => NodeCredentials.load(empty), (err: Error) => err.message.includes(path.join(empty, 'node-credential.key')));
      assert.deepEqual(fs.readdirSync(empty), []);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('narrows a world-writable key file to 0600 on load', () => {
    const keyFile = path.join(dir, 'node-credential.key');
    fs.chmodSync(keyFile, 0o666);
    assert.equal(NodeCredentials.load(dir).tokenFor(FRONT), credentials.tokenFor(FRONT));
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
  });
});
