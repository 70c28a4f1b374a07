import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminBaseUrl, runVerify } from '../../src/verify/verify';
import { CAPTURED_AT, fixture } from './fixtures';

// A stand-in Envoy admin on loopback: /<scenario>/stats, /<scenario>/certs and
// /<scenario>/config_dump serve the captured output; a scenario's config_dump is either the whole
// dump (as an Envoy that ignores `resource` sends) or one file per `resource`, and without one
// it is a 404. /silent never answers; anything else is a 404 as Envoy's admin gives.
interface Scenario { stats: string; certs: string; configDump?: string | Record<string, string> }
const SIDECAR_CONFIG = { dynamic_listeners: 'sidecar-strict.listeners.json', dynamic_active_clusters: 'sidecar-strict.clusters.json' };
const SCENARIOS: Record<string, Scenario> = {
  healthy: { stats: 'healthy-strict.stats.txt', certs: 'healthy.certs.json', configDump: SIDECAR_CONFIG },
  'no-config-dump': { stats: 'healthy-strict.stats.txt', certs: 'healthy.certs.json' },
  gateway: { stats: 'gateway.stats.txt', certs: 'gateway.certs.json', configDump: 'gateway.config_dump.json' },
  'no-certificate': { stats: 'no-certificate.stats.txt', certs: 'healthy.certs.json', configDump: SIDECAR_CONFIG },
  permissive: { stats: 'permissive-plaintext.stats.txt', certs: 'healthy.certs.json', configDump: 'permissive.config_dump.json' },
  'fail-verify-san': { stats: 'fail-verify-san.stats.txt', certs: 'healthy.certs.json' },
  expiring: { stats: 'healthy-strict.stats.txt', certs: 'expiring.certs.json' },
};

function notFound(res: http.ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('invalid path. admin commands are:\n');
}

function startAdmin(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const [, scenario, endpoint] = url.pathname.split('/');
    if (scenario === 'silent') return; // hold the request open
    if (scenario === 'garbled') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(endpoint === 'certs' ? '{"certificates": [{"cert_chain": 7}]}' : fixture('healthy-strict.stats.txt'));
      return;
    }
    if (scenario === 'garbled-config-dump') {
      res.writeHead(200, { 'content-type': endpoint === 'stats' ? 'text/plain' : 'application/json' });
      res.end(endpoint === 'stats' ? fixture('gateway.stats.txt') : endpoint === 'certs' ? fixture('gateway.certs.json') : '{"configs": 7}');
      return;
    }
    const files = SCENARIOS[scenario ?? ''];
    const configDump = files?.configDump;
    const file = endpoint === 'stats' ? files?.stats
      : endpoint === 'certs' ? files?.certs
        : endpoint === 'config_dump' ? (typeof configDump === 'string' ? configDump : configDump?.[url.searchParams.get('resource') ?? ''])
          : undefined;
    if (!file) return notFound(res);
    res.writeHead(200, { 'content-type': endpoint === 'stats' ? 'text/plain; charset=UTF-8' : 'application/json' });
    res.end(fixture(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function stop(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

describe('verify/verify', () => {
  let server: http.Server;
  let base: string;

  before(async () => {
    server = await startAdmin();
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => stop(server));

  it('exits 0 and prints the tables for a healthy STRICT mTLS sidecar', async () => {
    const result = await runVerify({ envoyAdmin: `${base}/healthy`, strict: true, now: CAPTURED_AT });
    assert.equal(result.exitCode, 0);
    assert.match(result.output, /^TLS posture: from \/config_dump$/m);
    assert.match(result.output, /^0\.0\.0\.0_15000\s+mutual-tls\s+yes\s+12\s+0\s+0\s+0\s+0\s+0\s+0\s+12\s+0$/m);
    assert.match(result.output, /^0\.0\.0\.0_15001\s+plaintext\s+no\s/m);
    assert.match(result.output, /^cds_egress_colorapp_color-blue_http_8080\s+mutual-tls\s+5\s/m);
    assert.match(result.output, /^chain\s+5c1f0a3e9b7d4f21\s+80d\s/m);
    assert.match(result.output, /OK: no findings\./);
  });

  it('exits 1 when the ingress listener accepted clients without certificates', async () => {
    const result = await runVerify({ envoyAdmin: `${base}/no-certificate`, now: CAPTURED_AT });
    assert.equal(result.exitCode, 1);
    assert.match(result.output, /FAIL {2}listener 0\.0\.0\.0_15000: 4 of 20 TLS connections were accepted without a client certificate .*require_client_certificate/);
  });

  it('exits 0 under --strict for a gateway whose listener is one-way TLS by its /config_dump', async () => {
    const result = await runVerify({ envoyAdmin: `${base}/gateway`, strict: true, json: true, now: CAPTURED_AT });
    assert.equal(result.exitCode, 0, result.output);
    const report = JSON.parse(result.output) as { postureSource: string; listeners: { name: string; posture: string }[]; findings: { level: string }[] };
    assert.equal(report.postureSource, 'config_dump');
    assert.deepEqual(report.listeners.map((l) => [l.name, l.posture]), [['0.0.0.0_15000', 'one-way-tls']]);
    assert.deepEqual(report.findings.map((f) => f.level), ['note']);
  });

  it('notes a PERMISSIVE listener that saw plaintext, and exits 1 for it only under --strict', async () => {
    const lenient = await runVerify({ envoyAdmin: `${base}/permissive`, now: CAPTURED_AT });
    assert.equal(lenient.exitCode, 0, lenient.output);
    assert.match(lenient.output, /NOTE {2}listener 0\.0\.0\.0_15000: PERMISSIVE: .*5 of 15 connections were plaintext/);
    const strict = await runVerify({ envoyAdmin: `${base}/permissive`, strict: true, now: CAPTURED_AT });
    assert.equal(strict.exitCode, 1);
    assert.match(strict.output, /FAIL {2}listener 0\.0\.0\.0_15000: PERMISSIVE listener accepted 5 of 15 connections in plaintext/);
  });

  it('falls back to the /stats heuristics, and says so, when /config_dump is missing or unparsable', async () => {
    const lenient = await runVerify({ envoyAdmin: `${base}/no-config-dump`, now: CAPTURED_AT });
    assert.equal(lenient.exitCode, 0, lenient.output);
    // --strict does not report OK on a posture it could not read.
    const missing = await runVerify({ envoyAdmin: `${base}/no-config-dump`, strict: true, now: CAPTURED_AT });
    assert.equal(missing.exitCode, 1, missing.output);
    assert.match(missing.output, /FAIL {2}envoy: TLS posture unknown: \/config_dump could not be read/);
    assert.match(missing.output, new RegExp(`^TLS posture: unknown, /config_dump not used \\(GET ${base}/no-config-dump/config_dump\\?resource=dynamic_\\w+: HTTP 404 Not Found\\); listeners judged by /stats heuristics`, 'm'));
    assert.match(missing.output, /^0\.0\.0\.0_15000\s+unknown\s+yes\s/m);
    // A gateway without its configuration looks like broken mTLS to the heuristics: exit 1, not 2.
    const garbled = await runVerify({ envoyAdmin: `${base}/garbled-config-dump`, strict: true, json: true, now: CAPTURED_AT });
    assert.equal(garbled.exitCode, 1);
    const report = JSON.parse(garbled.output) as { postureSource: string; postureFallbackReason: string };
    assert.equal(report.postureSource, 'stats');
    assert.equal(report.postureFallbackReason, `${base}/garbled-config-dump/config_dump: expected an object with "configs" (an Envoy admin /config_dump?)`);
  });

  it('exits 1 with a JSON report when an egress cluster saw fail_verify_san', async () => {
    const result = await runVerify({ envoyAdmin: `${base}/fail-verify-san/`, json: true, now: CAPTURED_AT });
    assert.equal(result.exitCode, 1);
    const report = JSON.parse(result.output) as { adminUrl: string; ok: boolean; clusters: { name: string; tls: { fail_verify_san: number } }[] };
    assert.equal(report.adminUrl, `${base}/fail-verify-san`);
    assert.equal(report.ok, false);
    assert.equal(report.clusters.find((c) => c.name === 'cds_egress_colorapp_color-blue_http_8080')!.tls.fail_verify_san, 5);
  });

  it('exits 1 for a certificate inside the expiry threshold and 0 with a smaller threshold', async () => {
    assert.equal((await runVerify({ envoyAdmin: `${base}/expiring`, now: CAPTURED_AT })).exitCode, 1);
    assert.equal((await runVerify({ envoyAdmin: `${base}/expiring`, expiryDays: 2, now: CAPTURED_AT })).exitCode, 0);
  });

  it('exits 2 naming the URL when the admin answers 404 or with output it cannot parse', async () => {
    const missing = await runVerify({ envoyAdmin: `${base}/nowhere` });
    assert.equal(missing.exitCode, 2);
    assert.match(missing.output, new RegExp(`GET ${base}/nowhere/(stats|certs): HTTP 404`));
    const garbled = await runVerify({ envoyAdmin: `${base}/garbled`, json: true });
    assert.equal(garbled.exitCode, 2);
    assert.match((JSON.parse(garbled.output) as { error: string }).error, /\/garbled\/certs: certificates\[0\]\.cert_chain: expected an array/);
  });

  it('exits 2 when nothing listens at the admin address', async () => {
    const closed = await startAdmin();
    const port = (closed.address() as AddressInfo).port;
    await stop(closed);
    const result = await runVerify({ envoyAdmin: `127.0.0.1:${port}` });
    assert.equal(result.exitCode, 2);
    assert.match(result.output, new RegExp(`^meshd verify: GET http://127\\.0\\.0\\.1:${port}/(stats|certs): .*ECONNREFUSED`));
  });

  it('exits 2 when the admin does not answer within the timeout', async () => {
    const result = await runVerify({ envoyAdmin: `${base}/silent`, timeoutMs: 200 });
    assert.equal(result.exitCode, 2);
    assert.match(result.output, /no answer within 200 ms/);
  });

  it('accepts a bare host:port and refuses other schemes', () => {
    assert.equal(adminBaseUrl('127.0.0.1:9901'), 'http://127.0.0.1:9901');
    assert.equal(adminBaseUrl('http://envoy:9901/'), 'http://envoy:9901');
    assert.throws(() => adminBaseUrl('ftp://envoy:9901'), /expected an http\(s\) URL/);
  });
});
