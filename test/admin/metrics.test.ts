import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CREDENTIAL_HEADER } from '../../src/auth/node-credential';
import { Meshd } from '../../src/runtime/meshd';
import { resourceName, XdsTestClient } from '../support/xds-client';
import { TypeUrl } from '../../src/xds/type-urls';
import { MeshdMetrics } from '../../src/admin/metrics';
import { parsePrometheusText, sampleValue, type ParsedMetrics } from './prom-text';
import { BACK, FRONT, GATEWAY, http, startHarness, until, type Harness } from './harness';

async function scrape(h: Harness): Promise<ParsedMetrics> {
  const response = await http(h, '/metrics');
  assert.equal(response.status, 200);
  assert.match(response.contentType, /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(response.body);
}

describe('admin/metrics', () => {
  let h: Harness;
  beforeEach(async () => { h = await startHarness(); });
  afterEach(async () => { await h.close(); });

  it('counts streams, pushes, ACKs, NACKs and refusals as proxies come and go', async () => {
    const front = h.stream(FRONT, { transport: 'unix' });
    front.ack(await front.next());
    const back = h.stream(BACK, { transport: 'tcp' });
    back.ack(await back.next());
    back.send({ typeUrl: TypeUrl.Listener });
    const listeners = await back.next();
    back.send({ typeUrl: TypeUrl.Listener, responseNonce: listeners.nonce, errorDetail: { code: 3, message: 'listener ingress: port in use' } });
    const sds = h.stream(GATEWAY, { transport: 'tcp', service: 'sds' });
    sds.ack(await sds.next());
    const intruder = h.client('tcp').sotw('ads');
    intruder.send({ node: { id: FRONT }, typeUrl: TypeUrl.Cluster });
    assert.equal((await intruder.inbox.ended()).code, grpc.status.PERMISSION_DENIED);
    h.metrics.configReload('refused');
    h.metrics.certificateIssued('leaf');
    h.metrics.certificateIssued('leaf');
    h.metrics.certificateRotated('ca');
    h.metrics.fileSecretRefused('mismatched');

    const m = await until(async () => {
      const parsed = await scrape(h);
      return sampleValue(parsed, 'meshd_xds_nacks_total', { type: 'LDS' }) === 1 && sampleValue(parsed, 'meshd_xds_acks_total', { type: 'SDS' }) === 1 ? parsed : undefined;
    }, 'NACK and SDS ACK counted');

    assert.equal(m.types.get('meshd_xds_connected_streams'), 'gauge');
    assert.equal(m.types.get('meshd_xds_push_ack_seconds'), 'histogram');
    assert.equal(m.types.get('meshd_xds_acks_total'), 'counter');
    assert.equal(sampleValue(m, 'meshd_xds_connected_streams', { service: 'ADS', transport: 'unix' }), 1);
    assert.equal(sampleValue(m, 'meshd_xds_connected_streams', { service: 'ADS', transport: 'tcp' }), 1);
    assert.equal(sampleValue(m, 'meshd_xds_connected_streams', { service: 'SDS', transport: 'tcp' }), 1);
    assert.equal(sampleValue(m, 'meshd_xds_stream_types', { type: 'CDS', transport: 'tcp' }), 1);
    assert.equal(sampleValue(m, 'meshd_xds_stream_types', { type: 'LDS', transport: 'tcp' }), 1);
    assert.equal(sampleValue(m, 'meshd_xds_responses_sent_total', { type: 'CDS' }), 2);
    assert.equal(sampleValue(m, 'meshd_xds_responses_sent_total', { type: 'LDS' }), 1);
    assert.equal(sampleValue(m, 'meshd_xds_acks_total', { type: 'CDS' }), 2);
    assert.equal(sampleValue(m, 'meshd_xds_acks_total', { type: 'LDS' }), undefined);
    // One latency observation per ACKed response; the NACKed one is not a completed push.
    assert.equal(sampleValue(m, 'meshd_xds_push_ack_seconds_count', { type: 'CDS' }), 2);
    assert.equal(sampleValue(m, 'meshd_xds_push_ack_seconds_bucket', { type: 'CDS', le: '+Inf' }), 2);
    assert.equal(sampleValue(m, 'meshd_xds_push_ack_seconds_count', { type: 'LDS' }), undefined);
    assert.ok(sampleValue(m, 'meshd_xds_push_ack_seconds_sum', { type: 'CDS' })! >= 0);
    assert.equal(sampleValue(m, 'meshd_authorization_refusals_total', { reason: 'node_credential' }), 1);
    assert.equal(sampleValue(m, 'meshd_xds_requests_rejected_total', { service: 'unidentified' }), 1);
    assert.equal(sampleValue(m, 'meshd_config_reloads_total', { result: 'refused' }), 1);
    assert.equal(sampleValue(m, 'meshd_config_reloads_total', { result: 'applied' }), 0);
    assert.equal(sampleValue(m, 'meshd_certificate_issuances_total', { kind: 'leaf' }), 2);
    assert.equal(sampleValue(m, 'meshd_certificate_rotations_total', { kind: 'ca' }), 1);
    assert.equal(sampleValue(m, 'meshd_file_secret_refusals_total', { reason: 'mismatched' }), 1);
    const expiry = sampleValue(m, 'meshd_certificate_expiry_seconds')!;
    assert.ok(expiry > 23 * 3600 && expiry <= 24 * 3600, `expiry gauge ${expiry}`);

    front.end();
    const after = await until(async () => {
      const parsed = await scrape(h);
      return sampleValue(parsed, 'meshd_xds_connected_streams', { service: 'ADS', transport: 'unix' }) === 0 ? parsed : undefined;
    }, 'closed stream leaves the gauge');
    assert.equal(sampleValue(after, 'meshd_xds_stream_types', { type: 'CDS', transport: 'unix' }), 0);
    assert.equal(sampleValue(after, 'meshd_xds_connected_streams', { service: 'ADS', transport: 'tcp' }), 1);
  });

  it('keeps its own registry, so two instances do not share counters', async () => {
    const a = new MeshdMetrics();
    const b = new MeshdMetrics();
    a.configReload('applied');
    assert.equal(sampleValue(parsePrometheusText(await a.text()), 'meshd_config_reloads_total', { result: 'applied' }), 1);
    assert.equal(sampleValue(parsePrometheusText(await b.text()), 'meshd_config_reloads_total', { result: 'applied' }), 0);
    // Without a certificate the gauge is NaN rather than a made-up number an alert would fire on.
    assert.ok(Number.isNaN(sampleValue(parsePrometheusText(await b.text()), 'meshd_certificate_expiry_seconds')));
  });

  it('exposes the process metrics: RSS, heap, event-loop lag, open handles', async () => {
    const m = parsePrometheusText(await new MeshdMetrics().text());
    for (const name of ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_active_handles_total']) {
      assert.ok(m.types.has(name), `${name} is exposed`);
    }
    assert.ok(sampleValue(m, 'process_resident_memory_bytes')! > 0);
    assert.ok(sampleValue(m, 'nodejs_heap_size_used_bytes')! > 0);
  });
});

describe('admin/metrics in a running meshd', function () {
  this.timeout(30_000);
  const FRONT_NODE = 'mesh/colorapp/virtualNode/front';
  let work: string;
  let meshd: Meshd;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-metrics-'));
    fs.cpSync(path.resolve(__dirname, '../../../examples/colorapp'), path.join(work, 'mesh'), { recursive: true });
    meshd = await Meshd.start({
      configDir: path.join(work, 'mesh'), xds: ['127.0.0.1:0'], sdsSocket: path.join(work, 'sds.sock'),
      stateDir: path.join(work, 'state'), trustDomain: 'meshd.local', admin: '127.0.0.1:0',
    });
  });
  after(async () => {
    await meshd.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('counts an SDS request for a secret the node is not entitled to in meshd_authorization_refusals_total', async () => {
    const client = new XdsTestClient(`unix:${path.join(work, 'sds.sock')}`);
    try {
      const metadata = new grpc.Metadata();
      metadata.set(CREDENTIAL_HEADER, meshd.credentials.tokenFor(FRONT_NODE));
      const stream = client.sotw('sds', metadata);
      // Its own leaf is served; another endpoint's leaf is refused by name and the stream goes on.
      stream.send({ node: { id: FRONT_NODE }, typeUrl: TypeUrl.Secret, resourceNames: ['default', 'spiffe://meshd.local/mesh/colorapp/virtualNode/color-blue'] });
      assert.deepEqual((await stream.next()).resources.map(resourceName), ['default']);
      const scraped = await until(async () => {
        const parsed = parsePrometheusText(await (await fetch(`${meshd.adminServer!.url}/metrics`)).text());
        return sampleValue(parsed, 'meshd_authorization_refusals_total', { reason: 'secret_not_entitled' }) === undefined ? undefined : parsed;
      }, 'the refusal is counted');
      assert.equal(sampleValue(scraped, 'meshd_authorization_refusals_total', { reason: 'secret_not_entitled' }), 1);
      assert.equal(sampleValue(scraped, 'meshd_xds_requests_rejected_total', { service: 'SDS' }), 1);
      stream.end();
    } finally {
      client.close();
    }
  });
});
