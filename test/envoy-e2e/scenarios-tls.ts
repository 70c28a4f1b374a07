// Scenarios 1-3: STRICT mTLS on every hop, the migration of 001 (plaintext to STRICT without a
// failed request), and a client whose SAN list does not match the server's certificate.
import { BackgroundLoad, expectNoFailures, expectThroughGateway, gatewayRequest, waitFor, type MeshUnderTest } from './harness';
import {
  check, clusterStat, clusterTls, egressCluster, ingressTls, listenerStat, plaintextProbe, sumOf, type Scenario,
} from './scenario-support';
import type { SpecFiles } from './spec-files';

const ROUTE_ACTION = ['spec', 'httpRoute', 'action'];

/** Verify JSON as `meshd verify --json` prints it (the parts read here). */
interface VerifyJson { listeners: Array<{ name: string; posture: string }> }

export const strictMtls: Scenario = {
  name: '1 STRICT mTLS between all services',
  start: () => ({}),
  async run(mesh, note) {
    const gateway = mesh.endpoint('gateway');
    const front = mesh.endpoint('front');
    const colors = [mesh.endpoint('color-blue'), mesh.endpoint('color-green')];
    const before = new Map(await Promise.all(mesh.endpoints.map(async (e) => [e.name, await mesh.admin(e.name).stats()] as const)));
    const answered = new Set<string>();
    const requests = 40;
    for (let i = 0; i < requests; i++) answered.add((await expectThroughGateway(mesh, `/strict/${i}`))[1]!);
    note(`${requests} requests through the gateway succeeded; answered by ${[...answered].join(', ')}`);
    const after = new Map(await Promise.all(mesh.endpoints.map(async (e) => [e.name, await mesh.admin(e.name).stats()] as const)));
    const grew = (envoy: string, stat: string, atLeast = 1): void => {
      const delta = (after.get(envoy)!.get(stat) ?? 0) - (before.get(envoy)!.get(stat) ?? 0);
      check(delta >= atLeast, `${envoy}: ${stat} grew by ${delta}, expected at least ${atLeast}`);
      note(`${envoy}: ${stat} +${delta}`);
    };
    // Every hop: client -> gateway (one new connection per request), gateway -> front, front -> color.
    grew('gateway', listenerStat(gateway, 'ssl.handshake'), requests);
    grew('gateway', clusterStat(front, 'ssl.handshake'));
    grew('front', listenerStat(front, 'ssl.handshake'));
    for (const color of colors.filter((c) => answered.has(c.name))) {
      grew('front', clusterStat(color, 'ssl.handshake'));
      grew(color.name, listenerStat(color, 'ssl.handshake'));
    }
    for (const endpoint of [front, ...colors]) {
      const noCert = after.get(endpoint.name)!.get(listenerStat(endpoint, 'ssl.no_certificate')) ?? 0;
      check(noCert === 0, `${endpoint.name}: ${listenerStat(endpoint, 'ssl.no_certificate')} is ${noCert}, expected 0`);
    }
    note('ssl.no_certificate is 0 on every mTLS listener');
    for (const endpoint of [front, ...colors]) {
      const result = await mesh.verify(endpoint.name, ['--strict']);
      check(result.code === 0, `meshd verify --strict for ${endpoint.name} exited ${result.code}:\n${result.output}`);
    }
    // The gateway terminates one-way TLS for clients outside the mesh: its /config_dump says so,
    // and verify --strict passes it with a note instead of failing it as broken mTLS.
    const gatewayVerify = await mesh.verify('gateway', ['--strict', '--json']);
    check(gatewayVerify.code === 0, `meshd verify --strict for the gateway exited ${gatewayVerify.code}:\n${gatewayVerify.output}`);
    const report = JSON.parse(gatewayVerify.output.slice(gatewayVerify.output.indexOf('{'))) as VerifyJson;
    const listener = report.listeners.find((l) => l.name === `0.0.0.0_${gateway.ingressPort}`);
    check(listener?.posture === 'one-way-tls', `the gateway's listener posture is ${listener?.posture}, expected one-way-tls`);
    note('meshd verify --strict passes for the gateway (one-way TLS listener, by its /config_dump), front, color-blue and color-green');
  },
};

/** The migration's starting point: color-green takes all traffic, in plaintext, from a front without client policy. */
function plaintextStart(spec: SpecFiles): void {
  const route = spec.find('Route', 'color-route');
  spec.set(route, [...ROUTE_ACTION, 'weightedTargets'], [{ virtualNode: 'color-green', weight: 100 }]);
  // Two Envoys apply one change a few milliseconds apart; retries on connection errors carry
  // a request over that moment, as they would in production.
  spec.set(route, ['spec', 'httpRoute', 'retryPolicy'], {
    maxRetries: 5, perRetryTimeout: { unit: 'ms', value: 2000 }, httpRetryEvents: ['gateway-error'], tcpRetryEvents: ['connection-error'],
  });
  spec.edit('VirtualNode', 'color-green', ['spec', 'listeners', 0, 'tls'], undefined);
  spec.edit('VirtualNode', 'front', ['spec', 'backends', 0, 'virtualService', 'clientPolicy'], undefined);
  spec.edit('VirtualNode', 'front', ['spec', 'backendDefaults'], undefined);
}

export const migration: Scenario = {
  name: '2 migration to mTLS (001): plaintext -> PERMISSIVE with certificate -> TLS confirmed -> client certificates -> STRICT',
  start: () => ({ prepareSpec: plaintextStart }),
  async run(mesh, note) {
    const front = mesh.endpoint('front');
    const green = mesh.endpoint('color-green');
    const frontAdmin = mesh.admin('front');
    const greenAdmin = mesh.admin('color-green');
    const trust = mesh.trustDomain;
    const step = async (title: string, change: (spec: SpecFiles) => void, applied: () => Promise<boolean>): Promise<void> => {
      const spec = mesh.spec();
      change(spec);
      spec.save();
      await waitFor(`${title}: applied by the Envoys`, applied, 30_000);
      note(`${title}: applied`);
    };
    await expectThroughGateway(mesh, '/migration/start');
    check(clusterTls(await frontAdmin.configDump(), egressCluster(green)) === 'plaintext', 'front starts in plaintext towards color-green');
    check((await greenAdmin.stat(listenerStat(green, 'ssl.handshake'))) === 0, 'color-green has no TLS handshakes in plaintext');
    const load = new BackgroundLoad(mesh);
    await waitFor('plaintext traffic', async () => load.ok >= 10);
    await step('server PERMISSIVE with its certificate (a listener takes no TLS mode without one)', (spec) => {
      spec.edit('VirtualNode', 'color-green', ['spec', 'listeners', 0, 'tls'], { mode: 'PERMISSIVE', certificate: { sds: { secretName: 'default' } } });
    }, async () => {
      const server = ingressTls(await greenAdmin.configDump(), green);
      return server !== undefined && server.tlsChains > 0 && server.plaintextChains > 0 && clusterTls(await frontAdmin.configDump(), egressCluster(green)) === 'tls';
    });
    const handshakes = await greenAdmin.stat(listenerStat(green, 'ssl.handshake'));
    await waitFor('TLS confirmed: color-green ssl.handshake grows', async () => (await greenAdmin.stat(listenerStat(green, 'ssl.handshake'))) > handshakes);
    note('TLS confirmed on color-green (ssl.handshake grows)');
    await step('client certificates on front', (spec) => {
      spec.edit('VirtualNode', 'front', ['spec', 'backends', 0, 'virtualService', 'clientPolicy'], {
        tls: {
          certificate: { sds: { secretName: 'default' } },
          validation: { trust: { sds: { secretName: 'ROOTCA' } }, subjectAlternativeNames: { match: { exact: [`spiffe://${trust}/mesh/${green.mesh}/virtualNode/color-green`] } } },
        },
      });
    }, async () => clusterTls(await frontAdmin.configDump(), egressCluster(green)) === 'mtls');
    await step('server validation (client certificates required), still PERMISSIVE', (spec) => {
      spec.edit('VirtualNode', 'color-green', ['spec', 'listeners', 0, 'tls', 'validation'], {
        trust: { sds: { secretName: 'ROOTCA' } }, subjectAlternativeNames: { match: { exact: [`spiffe://${trust}/mesh/${front.mesh}/virtualNode/front`] } },
      });
    }, async () => ingressTls(await greenAdmin.configDump(), green)?.requiresClientCert === true);
    await step('server STRICT', (spec) => {
      spec.edit('VirtualNode', 'color-green', ['spec', 'listeners', 0, 'tls', 'mode'], 'STRICT');
    }, async () => {
      const server = ingressTls(await greenAdmin.configDump(), green);
      return server !== undefined && server.plaintextChains === 0 && server.requiresClientCert;
    });
    const noCertAtStrict = await greenAdmin.stat(listenerStat(green, 'ssl.no_certificate'));
    const okAtStrict = load.ok;
    await waitFor('traffic after STRICT', async () => load.ok >= okAtStrict + 20);
    const result = await load.stop();
    expectNoFailures('traffic during the migration', result, 50);
    note(`${result.ok} requests during the migration, none failed`);
    check((await greenAdmin.stat(listenerStat(green, 'ssl.no_certificate'))) === noCertAtStrict, 'no connection without a client certificate after STRICT');
    const errorsBefore = await greenAdmin.stat(listenerStat(green, 'ssl.connection_error'));
    const address = mesh.ingressAddress('color-green');
    const probe = await plaintextProbe(address.host, address.port);
    check(probe.status === undefined, `a plaintext client got HTTP ${probe.status} from STRICT color-green`);
    await waitFor('the plaintext attempt counted as ssl.connection_error', async () => (await greenAdmin.stat(listenerStat(green, 'ssl.connection_error'))) > errorsBefore, 10_000);
    note(`a plaintext client is refused (${probe.error}); ssl.connection_error counts it`);
  },
};

const IMPOSTOR = (mesh: MeshUnderTest): string => `spiffe://${mesh.trustDomain}/mesh/colorapp/virtualNode/impostor`;

export const sanMismatch: Scenario = {
  name: '3 client SAN list does not match the server certificate',
  start: () => ({
    prepareSpec: (spec) => spec.edit('VirtualNode', 'front', ['spec', 'backends', 0, 'virtualService', 'clientPolicy', 'tls', 'validation', 'subjectAlternativeNames'],
      { match: { exact: ['spiffe://meshd.local/mesh/colorapp/virtualNode/impostor'] } }),
  }),
  async run(mesh, note) {
    const colors = [mesh.endpoint('color-blue'), mesh.endpoint('color-green')];
    const frontAdmin = mesh.admin('front');
    const sanFailures = (stats: ReadonlyMap<string, number>): number => sumOf(stats, colors.map((c) => clusterStat(c, 'ssl.fail_verify_san')));
    const before = sanFailures(await frontAdmin.stats());
    const requests = 10;
    for (let i = 0; i < requests; i++) {
      const response = await gatewayRequest(mesh, `/san/${i}`);
      check(response.status !== 200, `request ${i} succeeded although front trusts only ${IMPOSTOR(mesh)}: ${response.body}`);
    }
    note(`${requests} requests failed as they must (front answers 502: its upstream TLS failed)`);
    const failed = sanFailures(await frontAdmin.stats()) - before;
    check(failed >= requests, `ssl.fail_verify_san on front's egress clusters grew by ${failed}, expected at least ${requests}`);
    note(`front: ${colors.map((c) => clusterStat(c, 'ssl.fail_verify_san')).join(' + ')} = +${failed}`);
    const report = await mesh.verify('front', ['--json']);
    check(report.code !== 0 && /fail_verify_san/.test(report.output), `meshd verify must report the SAN failures:\n${report.output}`);
    // The fix: the right SANs; traffic recovers.
    const spec = mesh.spec();
    spec.edit('VirtualNode', 'front', ['spec', 'backends', 0, 'virtualService', 'clientPolicy', 'tls', 'validation', 'subjectAlternativeNames'],
      { match: { exact: colors.map((c) => `spiffe://${mesh.trustDomain}/mesh/${c.mesh}/virtualNode/${c.name}`) } });
    spec.save();
    await waitFor('traffic after the SAN fix', async () => (await gatewayRequest(mesh, '/san/fixed')).status === 200, 30_000);
    note('with the right SANs, requests succeed again');
  },
};
