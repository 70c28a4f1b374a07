import { strict as assert } from 'node:assert';
import { Snapshot } from '../../src/cache/snapshot';
import { TypeUrl } from '../../src/xds/type-urls';
import { edsCluster, loadAssignment, startTestServer, type TestServer } from '../support/fixtures';
import { XdsTestClient, type SotwResponse } from '../support/xds-client';

const KEY = 'mesh/demo/virtualNode/front';

/** A snapshot with one cluster whose endpoints make the response about 150 KB. */
function bigSnapshot(generation: number): Snapshot {
  const endpoints = Array.from({ length: 4000 }, (_, i) => ({ address: `10.${generation % 250}.${(i >> 8) & 255}.${i & 255}`, port: 8000 + (i % 1000) }));
  return Snapshot.fromResources({
    [TypeUrl.Cluster]: [edsCluster('big')],
    [TypeUrl.ClusterLoadAssignment]: [loadAssignment('big', endpoints)],
  });
}

describe('server/xds-stream', () => {
  let env: TestServer;
  let stalledClient: XdsTestClient;
  let readingClient: XdsTestClient;

  beforeEach(async () => {
    env = await startTestServer();
    stalledClient = new XdsTestClient(env.tcpTarget);
    readingClient = new XdsTestClient(env.tcpTarget);
  });
  afterEach(async () => {
    stalledClient.close();
    readingClient.close();
    await env.close();
  });

  it('keeps pushing to readers while one client stalls, and holds at most the latest state for it', async () => {
    const generations = 60;
    const snapshots = Array.from({ length: generations }, (_, g) => bigSnapshot(g));
    env.cache.setSnapshot(KEY, snapshots[0]!);

    const stalled = stalledClient.sotw();
    stalled.send({ node: { id: KEY }, typeUrl: TypeUrl.ClusterLoadAssignment, resourceNames: ['big'] });
    await stalled.next();
    stalled.call.pause(); // stop reading: HTTP/2 flow control soon stops the server's writes

    const reader = readingClient.sotw();
    reader.send({ node: { id: KEY }, typeUrl: TypeUrl.ClusterLoadAssignment, resourceNames: ['big'] });
    let last: SotwResponse = await reader.next();
    for (let g = 1; g < generations; g++) {
      env.cache.setSnapshot(KEY, snapshots[g]!);
      last = await reader.next();
      reader.ack(last, ['big']);
    }
    assert.equal(last.versionInfo, snapshots[generations - 1]!.get(TypeUrl.ClusterLoadAssignment)!.version);

    // The stalled client now reads what was held for it: far fewer than the pushes it missed,
    // ending with the latest version.
    stalled.call.resume();
    const received: SotwResponse[] = [];
    for (;;) {
      try {
        received.push(await stalled.next(1500));
      } catch {
        break;
      }
    }
    assert.ok(received.length > 0, 'the stalled client catches up');
    assert.ok(received.length < generations / 2, `stalled client got ${received.length} responses for ${generations - 1} pushes`);
    assert.equal(received[received.length - 1]!.versionInfo, last.versionInfo);
  });
});
