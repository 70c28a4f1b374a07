import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
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
});
