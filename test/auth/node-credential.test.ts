import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CREDENTIAL_HEADER, CREDENTIAL_NODE_METADATA_KEY, NodeCredentials } from '../../src/auth/node-credential';
import { TypeUrl } from '../../src/xds/type-urls';
import { basicSnapshot, startTestServer, type TestServer } from '../support/fixtures';
import { XdsTestClient, type SotwTestStream } from '../support/xds-client';

const FRONT = 'mesh/demo/virtualNode/front';
const BACK = 'mesh/demo/virtualNode/back';

function withToken(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(CREDENTIAL_HEADER, token);
  return metadata;
}

interface CredentialServer {
  /** The state directory holding the key. */
  dir: string;
  credentials: NodeCredentials;
  env: TestServer;
  client: XdsTestClient;
}

/** Before each test: a key in a fresh state directory and an xDS server identifying nodes by it, serving FRONT and BACK. */
function useCredentialServer(): CredentialServer {
  const fixture = {} as CredentialServer;
  beforeEach(async () => {
    fixture.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-cred-'));
    fixture.credentials = NodeCredentials.loadOrCreate(fixture.dir);
    fixture.env = await startTestServer({ identify: fixture.credentials.identifier() });
    fixture.env.cache.setSnapshot(FRONT, basicSnapshot());
    fixture.env.cache.setSnapshot(BACK, basicSnapshot());
    fixture.client = new XdsTestClient(fixture.env.unixTarget);
  });
  afterEach(async () => {
    fixture.credentials.close();
    fixture.client.close();
    await fixture.env.close();
    fs.rmSync(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}

describe('auth/node-credential', () => {
  const fixture = useCredentialServer();
  let dir: string;
  let credentials: NodeCredentials;
  let client: XdsTestClient;
  beforeEach(() => ({ dir, credentials, client } = fixture));

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

describe('auth/node-credential: key rotation and revocation', () => {
  const fixture = useCredentialServer();
  let dir: string;
  let credentials: NodeCredentials;
  let env: TestServer;
  let client: XdsTestClient;
  beforeEach(() => ({ dir, credentials, env, client } = fixture));

  async function openStream(node: string, token: string): Promise<SotwTestStream> {
    const stream = client.sotw('ads', withToken(token));
    stream.send({ node: { id: node }, typeUrl: TypeUrl.Cluster });
    assert.equal((await stream.next()).typeUrl, TypeUrl.Cluster);
    return stream;
  }

  it('revoking one endpoint ends its streams and refuses its old token; the others carry on; the next token works and survives a restart', async () => {
    const oldFront = credentials.tokenFor(FRONT);
    const backToken = credentials.tokenFor(BACK);
    const front = await openStream(FRONT, oldFront);
    const back = await openStream(BACK, backToken);

    const revocation = await credentials.revoke(FRONT);
    assert.equal(revocation.generation, 1);
    const ended = await front.inbox.ended();
    assert.equal(ended.code, grpc.status.PERMISSION_DENIED);
    assert.match(ended.details, /mesh\/demo\/virtualNode\/front \(its credentials were revoked at .*print this node's bootstrap again/);

    // BACK's stream is still served: a new snapshot reaches it.
    env.cache.setSnapshot(BACK, basicSnapshot({ clusters: ['backend', 'other'] }));
    assert.equal((await back.next()).typeUrl, TypeUrl.Cluster);
    assert.equal(back.inbox.status, undefined, 'BACK\'s stream is still open');
    assert.equal(credentials.tokenFor(BACK), backToken, 'revoking FRONT changed nothing for BACK');

    const refused = client.sotw('ads', withToken(oldFront));
    refused.send({ node: { id: FRONT }, typeUrl: TypeUrl.Cluster });
    assert.equal((await refused.inbox.ended()).code, grpc.status.PERMISSION_DENIED);

    const newFront = credentials.tokenFor(FRONT);
    assert.notEqual(newFront, oldFront);
    await openStream(FRONT, newFront);

    const stateFile = path.join(dir, 'node-credential-state.json');
    assert.equal(fs.statSync(stateFile).mode & 0o777, 0o600);
    const reloaded = NodeCredentials.load(dir);
    assert.equal(reloaded.tokenFor(FRONT), newFront);
    assert.equal(reloaded.verify({ mesh: 'demo', kind: 'virtualNode', name: 'front', key: FRONT } as never, oldFront), false);
    assert.deepEqual(reloaded.status().revoked.map((r) => [r.endpoint, r.generation]), [[FRONT, 1]]);
    reloaded.close();
  });

  it('a rotated key stays accepted until the overlap ends; then the streams that used it end and the state forgets it', async () => {
    const oldFront = credentials.tokenFor(FRONT);
    const keyBefore = credentials.status().key;
    const rotated = await credentials.rotateKey(1500);
    assert.equal(rotated.retired, keyBefore);
    assert.notEqual(rotated.key, keyBefore);
    const status = credentials.status();
    assert.equal(status.key, rotated.key);
    assert.deepEqual(status.retiring.map((r) => r.key), [keyBefore]);
    assert.equal(status.retiring[0]!.acceptedUntil, rotated.acceptedUntil.toISOString());
    assert.ok(!JSON.stringify(status).includes(fs.readFileSync(path.join(dir, 'node-credential.key'), 'utf8').trim()), 'status shows fingerprints, never a key');

    const newFront = credentials.tokenFor(FRONT);
    assert.notEqual(newFront, oldFront);
    const onOldKey = await openStream(FRONT, oldFront); // within the overlap
    const onNewKey = await openStream(FRONT, newFront);
    // A restart within the overlap keeps accepting both.
    const reloaded = NodeCredentials.load(dir);
    assert.equal(reloaded.tokenFor(FRONT), newFront);
    reloaded.close();

    const ended = await onOldKey.inbox.ended(10_000);
    assert.equal(ended.code, grpc.status.PERMISSION_DENIED);
    assert.match(ended.details, /made with a node credential key that is no longer accepted/);
    env.cache.setSnapshot(FRONT, basicSnapshot({ clusters: ['backend', 'other'] }));
    await onNewKey.next();
    assert.equal(onNewKey.inbox.status, undefined, 'the stream on the new key is still open');

    const late = client.sotw('ads', withToken(oldFront));
    late.send({ node: { id: FRONT }, typeUrl: TypeUrl.Cluster });
    assert.equal((await late.inbox.ended()).code, grpc.status.PERMISSION_DENIED);
    assert.deepEqual(credentials.status().retiring, []);
    const document = JSON.parse(fs.readFileSync(path.join(dir, 'node-credential-state.json'), 'utf8')) as { retiring: unknown[] };
    assert.deepEqual(document.retiring, [], 'the retired key was removed from the state file');
  });

  it('a change that cannot be saved changes nothing', async () => {
    const failing = NodeCredentials.fromState(credentials.state, { save: async () => { throw new Error('disk full'); } });
    const before = failing.tokenFor(FRONT);
    await assert.rejects(failing.revoke(FRONT), /disk full/);
    await assert.rejects(failing.rotateKey(1000), /disk full/);
    assert.equal(failing.tokenFor(FRONT), before);
    assert.deepEqual(failing.status().revoked, []);
    failing.close();
  });

  it('a damaged state file is an error naming the file and the field', () => {
    const stateFile = path.join(dir, 'node-credential-state.json');
    fs.writeFileSync(stateFile, JSON.stringify({ retiring: [{ key: 'c2hvcnQ=', acceptedUntil: '2030-01-01T00:00:00Z' }] }), { mode: 0o600 });
    assert.throws(() => NodeCredentials.load(dir), (err: Error) => err.message.includes(stateFile) && err.message.includes('retiring[0].key'));
    fs.writeFileSync(stateFile, '{ not json', { mode: 0o600 });
    assert.throws(() => NodeCredentials.load(dir), (err: Error) => err.message === `${stateFile}: not valid JSON`);
  });
});
