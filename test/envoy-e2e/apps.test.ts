import { strict as assert } from 'node:assert';
import { startApp, type RunningApp } from './apps';
import { appsOnPath } from './harness';
import { httpGet } from './envoy-admin';
import { allocatePorts } from './ports';

describe('envoy-e2e/apps', () => {
  const running: RunningApp[] = [];
  afterEach(async () => { await Promise.all(running.splice(0).map((app) => app.close())); });

  it('answers with its name and the path, and nests its upstream answer sent with the service Host', async () => {
    const [backendPort, frontPort] = await allocatePorts(2);
    running.push(await startApp({ name: 'color-blue', port: backendPort! }));
    // Stands in for the Envoy egress listener: the backend itself, reached with the service's Host.
    running.push(await startApp({ name: 'front', port: frontPort!, upstream: `http://127.0.0.1:${backendPort}`, upstreamHost: 'color.colorapp.local:8080' }));
    const response = await httpGet(`http://127.0.0.1:${frontPort}/a/b?c=1`);
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { app: 'front', path: '/a/b?c=1', upstream: { app: 'color-blue', path: '/a/b?c=1' } });
    assert.deepEqual(appsOnPath(response.body), ['front', 'color-blue']);
  });

  it('answers 502 naming the upstream when it cannot be reached', async () => {
    const [deadPort, frontPort] = await allocatePorts(2);
    running.push(await startApp({ name: 'front', port: frontPort!, upstream: `http://127.0.0.1:${deadPort}`, upstreamHost: 'color.colorapp.local:8080' }));
    const response = await httpGet(`http://127.0.0.1:${frontPort}/x`);
    assert.equal(response.status, 502);
    assert.match(response.body, new RegExp(`upstream http://127.0.0.1:${deadPort}`));
  });
});
