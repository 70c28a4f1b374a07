import { strict as assert } from 'node:assert';
import { renderStatus, runStatus } from '../../src/cli/status';
import type { StatusDocument } from '../../src/admin/server';
import { AdminServer } from '../../src/admin/server';
import { TypeUrl } from '../../src/xds/type-urls';
import { BACK, FRONT, startHarness, until, type Harness } from '../admin/harness';

/** Reads the table back into rows keyed by header, using the header's column offsets. */
function parseTable(output: string): Record<string, string>[] {
  const lines = output.split('\n');
  const headerIndex = lines.findIndex((l) => l.startsWith('!  NODE'));
  assert.ok(headerIndex >= 0, `no table in:\n${output}`);
  const header = lines[headerIndex]!;
  const names = header.split(/\s{2,}/);
  const starts = names.map((name) => header.indexOf(name));
  return lines.slice(headerIndex + 1).filter((l) => l.trim() !== '').map((line) => {
    const row: Record<string, string> = {};
    names.forEach((name, i) => { row[name] = line.slice(starts[i], starts[i + 1]).trim(); });
    return row;
  });
}

describe('cli/status', () => {
  let h: Harness;
  beforeEach(async () => { h = await startHarness(); });
  afterEach(async () => { await h.close(); });

  async function inSyncFront(): Promise<void> {
    const ads = h.stream(FRONT);
    ads.ack(await ads.next());
    const sds = h.stream(FRONT, { service: 'sds', transport: 'unix' });
    sds.ack(await sds.next());
    await until(() => (h.registry.proxies().filter((p) => p.types[0]?.state === 'synced').length === 2 ? true : undefined), 'front synced');
  }

  it('prints proxies in sync and exits 0', async () => {
    await inSyncFront();
    const result = await runStatus({ adminUrl: h.adminUrl });
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.output, /^mesh revision: rev-1$/m);
    assert.match(result.output, /^1 proxy on 2 streams; 0 out of sync$/m);
    const rows = parseTable(result.output);
    assert.deepEqual(rows.map((r) => `${r['!']}|${r.NODE}|${r.FORM}|${r.STREAM}|${r.TYPE}|${r.STATE}`).sort(), [
      `|${FRONT}|envoy|ADS/tcp|CDS|in sync`,
      `|${FRONT}|envoy|SDS/unix|SDS|in sync`,
    ]);
    const cds = rows.find((r) => r.TYPE === 'CDS')!;
    assert.equal(cds.SENT, h.cache.getSnapshot(FRONT)!.get(TypeUrl.Cluster)!.version.slice(0, 10));
    assert.equal(cds.ACKED, cds.SENT);
    assert.equal(cds['LAST NACK'], '-');
    // FRONT holds the leaf (it ACKed the SDS version), which expires in a day.
    assert.match(cds['CERT EXPIRY']!, /^in (24h|23h)$/);
    assert.ok(!result.output.includes('\x1b['), 'no ANSI colours unless asked');
  });

  it('flags a proxy that NACKed or lags past the threshold, and exits 1', async () => {
    await inSyncFront();
    const back = h.stream(BACK);
    const cds = await back.next();
    back.send({ typeUrl: TypeUrl.Cluster, versionInfo: '', responseNonce: cds.nonce, errorDetail: { code: 3, message: 'cluster secure-backend:\n  unknown secret' } });
    const front = h.stream(FRONT, { transport: 'unix' });
    await front.next(); // sent, never ACKed: lagging
    await until(() => (h.registry.proxies().some((p) => p.types[0]?.state === 'nacked') && h.registry.proxies().filter((p) => p.types[0]?.state === 'pending').length === 1 ? true : undefined), 'NACK and lag recorded');

    const strict = await runStatus({ adminUrl: h.adminUrl, staleAfterSeconds: 0 });
    assert.equal(strict.exitCode, 1);
    const rows = parseTable(strict.output);
    const nacked = rows.find((r) => r.NODE === BACK)!;
    assert.equal(nacked['!'], '!');
    assert.equal(nacked.STATE, 'NACKED');
    assert.match(nacked['LAST NACK']!, new RegExp(`^${cds.versionInfo.slice(0, 10)} \\d+s ago: cluster secure-backend: unknown secret$`));
    const lagging = rows.find((r) => r.NODE === FRONT && r.STREAM === 'ADS/unix')!;
    assert.equal(lagging['!'], '!');
    assert.equal(lagging.STATE, 'STALE');
    assert.equal(lagging.ACKED, '-');
    assert.equal(rows.filter((r) => r['!'] === '!').length, 2);
    assert.match(strict.output, /^2 proxies on 4 streams; 2 out of sync$/m);

    // Within a generous threshold the lagging proxy is only pending; the NACK still fails the run.
    const lenient = await runStatus({ adminUrl: h.adminUrl, staleAfterSeconds: 3600 });
    assert.equal(lenient.exitCode, 1);
    assert.equal(parseTable(lenient.output).find((r) => r.NODE === FRONT && r.STREAM === 'ADS/unix')!.STATE, 'pending');

    const coloured = await runStatus({ adminUrl: h.adminUrl, staleAfterSeconds: 0, color: true });
    const colouredLines = coloured.output.split('\n').filter((l) => l.startsWith('\x1b[31m'));
    assert.equal(colouredLines.length, 2);

    const json = await runStatus({ adminUrl: h.adminUrl, json: true, staleAfterSeconds: 3600 });
    assert.equal(json.exitCode, 1);
    const doc = JSON.parse(json.output) as StatusDocument & { outOfSync: string[] };
    assert.deepEqual(doc.outOfSync, [BACK]);
    assert.equal(doc.proxies.length, 4);
  });

  it('exits 0 for a proxy still within the threshold', async () => {
    const front = h.stream(FRONT);
    await front.next();
    await until(() => (h.registry.proxies()[0]?.types[0]?.state === 'pending' ? true : undefined), 'sent');
    const result = await runStatus({ adminUrl: h.adminUrl, staleAfterSeconds: 3600 });
    assert.equal(result.exitCode, 0, result.output);
    assert.equal(parseTable(result.output)[0]!.STATE, 'pending');
  });

  it('exits 2 when the admin endpoint cannot be reached or answers an error', async () => {
    const gone = new AdminServer({ registry: h.registry, metrics: h.metrics, snapshots: h.cache });
    await gone.start();
    const url = gone.url;
    await gone.close();
    const unreachable = await runStatus({ adminUrl: url });
    assert.equal(unreachable.exitCode, 2);
    assert.match(unreachable.output, /^cannot reach meshd admin at http:\/\/127\.0\.0\.1:\d+\/status: /);
    const failing = new AdminServer({ registry: h.registry, metrics: h.metrics, snapshots: h.cache, secretStatus: () => { throw new Error('CA state unreadable'); } });
    await failing.start();
    try {
      const broken = await runStatus({ adminUrl: failing.url });
      assert.equal(broken.exitCode, 2);
      assert.match(broken.output, /answered 500: .*CA state unreadable/);
    } finally {
      await failing.close();
    }
  });
});

describe('cli/status rendering', () => {
  const generatedAt = '2026-03-01T12:00:00.000Z';
  const tenMinutesAgo = '2026-03-01T11:50:00.000Z';
  const doc: StatusDocument = {
    generatedAt,
    proxies: [{
      streamId: 1, nodeId: FRONT, cluster: 'demo', userAgentName: 'grpc-go', endpoint: FRONT, form: 'grpc', service: 'ADS', flavor: 'sotw', transport: 'tcp', connectedSince: tenMinutesAgo,
      types: [{ typeUrl: TypeUrl.Listener, type: 'LDS', state: 'pending', sent: { version: 'abcdef0123456789', nonce: '3', at: tenMinutesAgo, resourceCount: 1 }, acked: { version: '0000000000000000', at: tenMinutesAgo } }],
    }, {
      streamId: 2, nodeId: BACK, cluster: 'demo', userAgentName: 'envoy', endpoint: BACK, form: 'envoy', service: 'SDS', flavor: 'delta', transport: 'unix', connectedSince: tenMinutesAgo, types: [],
    }],
    recentlyClosed: [],
    mesh: { revision: 'r42', lastRefused: { at: tenMinutesAgo, errors: ['a.yaml: VirtualNode x: spec.listeners: required', 'b.yaml: Route y: spec.httpRoute: required'] } },
    secrets: [{ name: 'leaf', kind: 'certificate', version: '1', serial: '0a', sans: [], notAfter: '2026-03-01T11:00:00.000Z', holders: [{ nodeId: FRONT, version: '1' }] }],
    nodeCredentials: { key: 'a1b2c3d4e5f6', retiring: [{ key: '0f0e0d0c0b0a', acceptedUntil: '2026-03-01T14:00:00.000Z' }], revoked: [{ endpoint: BACK, generation: 1, revokedAt: tenMinutesAgo }] },
  };

  it('judges staleness against the document time, and shows refused changes and expired certificates', () => {
    const stale = renderStatus(doc, { staleAfterSeconds: 300, color: false });
    assert.deepEqual(stale.outOfSync, [BACK, FRONT]);
    assert.match(stale.text, /^node credential key: a1b2c3d4e5f6$/m);
    assert.match(stale.text, /^ {2}retiring key 0f0e0d0c0b0a: accepted until 2026-03-01T14:00:00.000Z \(2h left\)/m);
    assert.match(stale.text, new RegExp(`^ {2}revoked: ${BACK} \\(${tenMinutesAgo}\\)$`, 'm'));
    assert.match(stale.text, /^last refused change \(2026-03-01T11:50:00.000Z\): a\.yaml: VirtualNode x: spec\.listeners: required \(\+1 more\)$/m);
    const rows = parseTable(stale.text);
    assert.deepEqual(rows.map((r) => [r['!'], r.NODE, r.FORM, r.STREAM, r.TYPE, r.SENT, r.ACKED, r.STATE, r['CERT EXPIRY']]), [
      ['!', FRONT, 'grpc', 'ADS/tcp', 'LDS', 'abcdef0123', '0000000000', 'STALE', 'EXPIRED 60m ago'],
      ['!', BACK, 'envoy', 'SDS/unix', '-', '-', '-', 'NO CONFIG', '-'],
    ]);
    const patient = renderStatus(doc, { staleAfterSeconds: 3600, color: false });
    assert.deepEqual(patient.outOfSync, []);
    assert.deepEqual(parseTable(patient.text).map((r) => r.STATE), ['pending', 'waiting']);
  });

  it('prints the fleet of replicas with the replica serving each proxy, and counts a proxy NACKing on another replica as out of sync', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const doc: StatusDocument = {
      generatedAt: at, proxies: [], recentlyClosed: [], mesh: { revision: 'r1' }, secrets: [], nodeCredentials: null,
      fleet: {
        replica: 'a',
        replicas: [
          { name: 'a', xds: ['10.0.0.1:18000'], startedAt: at, proxies: 0, self: true },
          { name: 'b', xds: ['10.0.0.2:18000'], admin: 'http://10.0.0.2:18001', startedAt: at, proxies: 2, self: false },
        ],
        proxies: [
          { nodeId: BACK, endpoint: BACK, since: at, streams: ['ADS/sotw'], types: { CDS: { state: 'nacked', sent: 'v2', acked: 'v1', nack: 'cluster x: unknown secret' } }, replica: 'b' },
          { nodeId: FRONT, endpoint: FRONT, since: at, streams: ['ADS/sotw', 'SDS/sotw'], types: { CDS: { state: 'synced', sent: 'v1', acked: 'v1' }, SDS: { state: 'pending', sent: 's2' } }, replica: 'b' },
        ],
      },
    };
    const { text, outOfSync } = renderStatus(doc, { staleAfterSeconds: 30, color: false });
    assert.deepEqual(outOfSync, [BACK]);
    assert.match(text, /^fleet: 2 replicas, 2 proxies; this is a$/m);
    assert.match(text, /^\*\s+a\s+0\s+10\.0\.0\.1:18000\s+-/m);
    assert.match(text, /^\s+b\s+2\s+10\.0\.0\.2:18000\s+http:\/\/10\.0\.0\.2:18001/m);
    assert.match(text, new RegExp(`^!\\s+${BACK}\\s+b\\s+ADS/sotw\\s+CDS:nacked\\s+cluster x: unknown secret$`, 'm'));
    assert.match(text, new RegExp(`^\\s+${FRONT}\\s+b\\s+ADS/sotw,SDS/sotw\\s+CDS:v1 SDS:pending\\s+-$`, 'm'));
  });

  it('prints no fleet section without a shared store', () => {
    const doc: StatusDocument = { generatedAt: new Date().toISOString(), proxies: [], recentlyClosed: [], mesh: { revision: 'r1' }, secrets: [], nodeCredentials: null };
    assert.doesNotMatch(renderStatus(doc, { staleAfterSeconds: 30, color: false }).text, /fleet/);
  });
});
