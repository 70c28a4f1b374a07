// The /ui page in a real browser (headless Chromium) against a real `meshd serve` on the demo mesh
// with real xDS clients connected: the paths and postures in the DOM are the model's, a spec edit
// reaches the open page within two seconds, a NACKing client's message shows, a rotation changes
// the serial shown, a refused change shows as a banner, and the map works from the keyboard.
// Each state is saved as a screenshot under the test's temporary directory.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Page } from 'playwright-core';
import { CREDENTIAL_HEADER, NodeCredentials } from '../../src/auth/node-credential';
import { loadMesh } from '../../src/model/load-mesh';
import { meshGraphs } from '../../src/posture';
import { TypeUrl } from '../../src/xds/type-urls';
import { chromiumPath, launchBrowser, type Browser } from '../support/browser';
import { runCli } from '../support/run-cli';
import { startServe, type ServeProcess } from '../support/serve-process';
import { XdsTestClient, type SotwTestStream } from '../support/xds-client';

const EXAMPLE = path.resolve(__dirname, '../../../examples/colorapp');
const MESH = 'mesh/colorapp';
const FRONT = `${MESH}/virtualNode/front`;
const GREEN = `${MESH}/virtualNode/color-green`;
const BLUE_EDGE = `${FRONT} -> color.colorapp.local -> ${MESH}/virtualNode/color-blue:8081`;
// The page's globals as far as the functions run in the page use them (the test build has no DOM library).
interface PageElement { getAttribute(name: string): string | null; hasAttribute(name: string): boolean; blur(): void; textContent: string | null }
declare const document: { querySelectorAll(selector: string): { length: number }; querySelector(selector: string): PageElement | null; activeElement: PageElement | null };

const NACK_MESSAGE = 'Proto constraint validation failed (ClusterValidationError.Name: value length must be at least 1 characters)';

describe('admin/ui: the mesh view in a browser', function () {
  this.timeout(60_000);
  let executable: string | undefined;
  let work: string;
  let artifacts: string;
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  const clients: XdsTestClient[] = [];
  let stopped = false;

  /** ACKs everything the stream receives until the test ends. */
  function ackAll(stream: SotwTestStream): void {
    void (async () => {
      while (!stopped) {
        const response = await stream.next(60_000).catch(() => undefined);
        if (!response || stopped) return;
        stream.ack(response);
      }
    })();
  }

  function connect(target: string, nodeId: string, service: 'ads' | 'sds'): SotwTestStream {
    const client = new XdsTestClient(target);
    clients.push(client);
    const metadata = new grpc.Metadata();
    metadata.set(CREDENTIAL_HEADER, NodeCredentials.load(path.join(work, 'state')).tokenFor(nodeId));
    const stream = client.sotw(service, metadata);
    stream.send(service === 'ads' ? { node: { id: nodeId }, typeUrl: TypeUrl.Cluster } : { node: { id: nodeId }, typeUrl: TypeUrl.Secret, resourceNames: ['default', 'ROOTCA'] });
    return stream;
  }

  async function screenshot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
  }

  before(async function () {
    executable = chromiumPath();
    if (!executable) {
      console.log('    skipped: no Chromium here (apt-get install chromium, or set CHROMIUM_BIN)');
      this.skip();
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-ui-'));
    artifacts = path.join(work, 'screenshots');
    fs.mkdirSync(artifacts);
    fs.cpSync(EXAMPLE, path.join(work, 'mesh'), { recursive: true });
    serve = await startServe(path.join(work, 'mesh'), path.join(work, 'state'));
    for (const node of ['virtualGateway/gateway', 'virtualNode/front', 'virtualNode/color-blue']) ackAll(connect(serve.ads, `${MESH}/${node}`, 'ads'));
    ackAll(connect(serve.sds, FRONT, 'sds'));
    // color-green refuses its clusters, as an Envoy does with a configuration it cannot take.
    const green = connect(serve.ads, GREEN, 'ads');
    const refused = await green.next();
    green.send({ typeUrl: TypeUrl.Cluster, versionInfo: '', responseNonce: refused.nonce, errorDetail: { code: 3, message: NACK_MESSAGE } });
    browser = await launchBrowser(executable!);
    page = await browser.context.newPage();
    await page.goto(`${serve.admin}/ui`);
  });
  after(async () => {
    stopped = true;
    for (const client of clients) client.close();
    await browser?.close();
    serve?.kill();
    // The screenshots stay as the run's artifacts; the rest goes.
    for (const entry of ['mesh', 'state']) if (work) fs.rmSync(path.join(work, entry), { recursive: true, force: true });
  });

  it('shows the model\'s paths and postures', async () => {
    const loaded = await loadMesh(path.join(work, 'mesh'));
    assert.ok(loaded.ok);
    const expected = meshGraphs(loaded.model).flatMap((graph) => graph.edges.map((edge) => `${edge.id} ${edge.posture}`)).sort();
    await page.waitForFunction((count) => document.querySelectorAll('svg [data-edge-id]').length === count, expected.length);
    const shown = await page.$$eval('svg [data-edge-id]', (edges) => edges.map((edge) => `${edge.getAttribute('data-edge-id')} ${edge.getAttribute('data-posture')}`));
    assert.deepEqual(shown.sort(), expected);
    // Posture in words too, not only in colour and pattern.
    const labels = await page.$$eval('svg [data-edge-id] .edge-label', (nodes) => nodes.map((node) => node.textContent));
    assert.deepEqual(labels.sort(), ['PERMISSIVE :8082', 'mTLS, SAN checked :8080', 'mTLS, SAN checked :8081']);
    await page.waitForSelector(`[data-endpoint-card="${FRONT}"] [data-serial]`);
    await screenshot('1-demo-mesh');
  });

  it('shows a NACKing client\'s message', async () => {
    const nack = await page.waitForSelector(`[data-endpoint-card="${GREEN}"] [data-nack]`);
    assert.match((await nack.textContent())!, new RegExp(`: ${NACK_MESSAGE.replace(/[().]/g, '\\$&')}$`));
    assert.match((await (await page.$(`[data-endpoint-card="${GREEN}"] .state-nacked`))!.textContent())!, /nacked/);
    await screenshot('2-nack');
  });

  it('turns a STRICT listener PERMISSIVE in the open page within two seconds of the edit', async () => {
    const file = path.join(work, 'mesh', 'color.yaml');
    const before = await page.getAttribute(`[data-edge-id="${BLUE_EDGE}"]`, 'data-posture');
    assert.equal(before, 'mtls-san');
    const edited = Date.now();
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('mode: STRICT', 'mode: PERMISSIVE'));
    await page.waitForSelector(`[data-edge-id="${BLUE_EDGE}"][data-posture="permissive"]`, { timeout: 2000 });
    assert.ok(Date.now() - edited <= 2000);
    await screenshot('3-permissive');
  });

  it('shows the new serial after a rotation', async () => {
    const selector = `[data-endpoint-card="${FRONT}"] [data-serial]`;
    const before = await page.getAttribute(selector, 'data-serial');
    const rotated = await runCli(['certs', 'rotate', '--node', FRONT, '--admin', serve.admin]);
    assert.equal(rotated.code, 0, rotated.stdout + rotated.stderr);
    await page.waitForFunction(([sel, old]) => {
      const shown = document.querySelector(sel!)?.getAttribute('data-serial');
      return shown !== undefined && shown !== null && shown !== old;
    }, [selector, before]);
    const after = await page.getAttribute(selector, 'data-serial');
    assert.notEqual(after, before);
    // The serial shown is the one meshd serves now.
    const status = (await (await fetch(`${serve.admin}/status`)).json()) as { secrets: { name: string; serial: string }[] };
    assert.equal(after, status.secrets.find((secret) => secret.name === 'spiffe://meshd.local/mesh/colorapp/virtualNode/front')?.serial);
    await screenshot('4-rotated');
  });

  it('shows a CA rollover in progress with how many leaves have moved', async () => {
    const rollover = await runCli(['ca', 'rollover', '--admin', serve.admin]);
    assert.equal(rollover.code, 0, rollover.stdout + rollover.stderr);
    await page.waitForSelector('#rollover:not([hidden])');
    assert.match((await page.textContent('#rollover'))!, /^CA rollover in progress: [0-9a-f]+ → [0-9a-f]+\. [01] of 1 leaves moved to [0-9a-f]+ /);
    // front's leaf is re-issued from the new CA a moment later (after the bundle reached the proxies).
    await page.waitForFunction(() => /1 of 1 leaves moved/.test(document.querySelector('#rollover')?.textContent ?? ''));
    assert.match((await page.textContent(`[data-endpoint-card="${FRONT}"] [data-ca]`))!, /\(new generation, rollover in progress\)$/);
    await screenshot('5-rollover');
  });

  it('shows a refused change as a banner with every error and the revision still served', async () => {
    const revision = await page.getAttribute('body', 'data-revision');
    const file = path.join(work, 'mesh', 'front.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('mode: STRICT', 'mode: SOMETIMES').replace('port: 8080, protocol: http', 'port: 8080, protocol: carrier-pigeon'));
    const banner = await page.waitForSelector('#refused:not([hidden]) li');
    assert.ok(banner);
    const text = (await page.textContent('#refused'))!;
    assert.match(text, new RegExp(`meshd still serves revision ${revision}`));
    const errors = await page.$$eval('#refused li', (items) => items.map((item) => item.textContent));
    assert.ok(errors.some((e) => /^front\.yaml: VirtualNode front: spec\.listeners\[0\]\.tls\.mode: /.test(e!)), errors.join('\n'));
    assert.ok(errors.some((e) => /^front\.yaml: VirtualNode front: spec\.listeners\[0\]\.portMapping\.protocol: /.test(e!)), errors.join('\n'));
    await screenshot('6-refused');
  });

  it('is navigable from the keyboard: Tab reaches a path, Enter explains it, arrows step to the next', async () => {
    await page.focus('svg [data-edge-id]');
    const first = await page.evaluate(() => document.activeElement?.getAttribute('data-edge-id'));
    await page.keyboard.press('Enter');
    await page.waitForSelector('#details [data-reason]');
    const reason = (await page.textContent('#details [data-reason]'))!;
    assert.ok(reason.length > 20, reason);
    await page.keyboard.press('ArrowRight');
    const second = await page.evaluate(() => document.activeElement?.getAttribute('data-edge-id'));
    assert.ok(first && second && first !== second, `${first} then ${second}`);
    // Tab from the page's start reaches the map's paths without a mouse.
    await page.evaluate(() => document.activeElement?.blur());
    let reached = false;
    for (let i = 0; i < 40 && !reached; i += 1) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.hasAttribute('data-edge-id') ?? false);
    }
    assert.ok(reached, 'Tab reaches a path');
    await screenshot('7-keyboard');
  });
});
