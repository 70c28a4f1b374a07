import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { clearStaleSocket, parseListenAddress, XdsServer } from '../../src/server/xds-server';
import { ADS } from '../../src/server/services';
import { SnapshotCache } from '../../src/cache/snapshot-cache';
import { trustNodeIdClaims } from '../../src/auth/node-id-claims';
import { TypeUrl } from '../../src/xds/type-urls';
import { basicSnapshot } from '../support/fixtures';
import { resourceName, XdsTestClient } from '../support/xds-client';

describe('server/xds-server', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-srv-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('makes a listen socket path absolute', () => {
    assert.deepEqual(parseListenAddress('unix:relative.sock'), { kind: 'unix', path: path.resolve('relative.sock') });
  });

  it('replaces a stale socket, refuses a live one, and never deletes a regular file', async () => {
    const stale = path.join(dir, 'stale.sock');
    // A process that listens on the socket and is killed: the socket file stays behind.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`]);
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(fs.lstatSync(stale).isSocket());
    await clearStaleSocket(stale);
    assert.equal(fs.existsSync(stale), false);

    const live = path.join(dir, 'live.sock');
    const server = net.createServer().listen(live);
    await new Promise((r) => server.once('listening', r));
    await assert.rejects(clearStaleSocket(live), /in use by another process/);
    server.close();

    const regular = path.join(dir, 'notes.txt');
    fs.writeFileSync(regular, 'keep me');
    await assert.rejects(clearStaleSocket(regular), /is not a socket; refusing to replace it/);
    assert.equal(fs.readFileSync(regular, 'utf8'), 'keep me');
  });

  it('serves on TCP and a Unix socket at once, with the socket mode 0600, and removes the socket on shutdown', async () => {
    const cache = new SnapshotCache();
    cache.setSnapshot('mesh/m/virtualNode/n', basicSnapshot());
    const server = new XdsServer({ services: [ADS], settings: { watcher: cache, identify: trustNodeIdClaims } });
    const socketPath = path.join(dir, 'xds.sock');
    const tcp = await server.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    await server.listen({ kind: 'unix', path: socketPath });
    assert.equal(fs.statSync(socketPath).mode & 0o777, 0o600);
    const clients = [new XdsTestClient(`127.0.0.1:${tcp.kind === 'tcp' ? tcp.port : 0}`), new XdsTestClient(`unix:${socketPath}`)];
    try {
      for (const client of clients) {
        const stream = client.sotw();
        stream.send({ node: { id: 'mesh/m/virtualNode/n' }, typeUrl: TypeUrl.Cluster });
        assert.equal((await stream.next()).typeUrl, TypeUrl.Cluster);
      }
    } finally {
      clients.forEach((c) => c.close());
      await server.shutdown(200);
    }
    assert.equal(fs.existsSync(socketPath), false);
  });

  it('writes responses of distinct content back to back on one connection, each intact (parts joined into scratch space as written)', async () => {
    const cache = new SnapshotCache();
    const nodes = Array.from({ length: 40 }, (_, i) => `mesh/m/virtualNode/n${i}`);
    nodes.forEach((node, i) => cache.setSnapshot(node, basicSnapshot({ clusters: [`first-${i}`] })));
    const server = new XdsServer({ services: [ADS], settings: { watcher: cache, identify: trustNodeIdClaims } });
    const tcp = await server.listen({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    const client = new XdsTestClient(`127.0.0.1:${tcp.kind === 'tcp' ? tcp.port : 0}`);
    try {
      const streams = nodes.map((node) => {
        const stream = client.sotw();
        stream.send({ node: { id: node }, typeUrl: TypeUrl.Cluster });
        return stream;
      });
      for (const [i, stream] of streams.entries()) {
        const first = await stream.next();
        assert.deepEqual(first.resources.map(resourceName), [`first-${i}`]);
        stream.ack(first);
      }
      // One synchronous loop: every stream writes its own response in the same tick, and each is
      // joined into the same scratch space, so one overwritten before grpc-js copied it shows here.
      nodes.forEach((node, i) => cache.setSnapshot(node, basicSnapshot({ clusters: [`second-${i}`, `also-${'x'.repeat(i * 37)}`] })));
      for (const [i, stream] of streams.entries()) {
        const second = await stream.next();
        assert.deepEqual(second.resources.map(resourceName).sort(), [`also-${'x'.repeat(i * 37)}`, `second-${i}`]);
      }
    } finally {
      client.close();
      await server.shutdown(200);
    }
  });
});
