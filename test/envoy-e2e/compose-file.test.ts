import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { COMPOSE_FILE } from './docker-mode';
import { COMPOSE_MESH_DIR } from './compose-mesh';
import { planMesh } from './mesh-plan';

interface ComposeService {
  image?: string;
  build?: unknown;
  network_mode?: string;
  ports?: string[];
  command?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
}

const ENVOY_IMAGE = 'envoyproxy/envoy:v1.39.5';

describe('envoy-e2e: docker-compose.envoy.yml', () => {
  const compose = parse(fs.readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  const services = compose.services;
  const plan = planMesh(COMPOSE_MESH_DIR);

  it('runs one pinned Envoy per endpoint with its bootstrap, in its application\'s network namespace', () => {
    for (const endpoint of plan) {
      const envoyService = endpoint.kind === 'virtualGateway' ? endpoint.name : `${endpoint.name}-envoy`;
      const envoy = services[envoyService];
      assert.ok(envoy, `no service ${envoyService}`);
      assert.equal(envoy.image, ENVOY_IMAGE);
      assert.deepEqual(envoy.command, ['envoy', '-c', `/etc/envoy-bootstrap/${endpoint.name}.yaml`, '--log-level', 'warn']);
      assert.ok(envoy.volumes!.includes('meshd-sds:/run/meshd'), `${envoyService} lacks the SDS volume`);
      // The host other Envoys dial (the spec's service-discovery name) is the container whose ports the Envoy listens on.
      const host = endpoint.kind === 'virtualGateway' ? envoyService : endpoint.host!;
      if (endpoint.kind === 'virtualNode') assert.equal(envoy.network_mode, `service:${host}`);
      const published = services[host]!.ports ?? [];
      for (const port of [endpoint.ingressPort, endpoint.adminPort]) assert.ok(published.includes(`127.0.0.1:${port}:${port}`), `${host} does not publish ${port}`);
      const bootstrapScript = services.bootstrap!.command!.join('\n');
      assert.match(bootstrapScript, new RegExp(`gen ${endpoint.kind} ${endpoint.name} ${endpoint.adminPort}\\n`));
    }
  });

  it('gives each application its port and front its upstream through its own egress listener', () => {
    for (const endpoint of plan.filter((e) => e.kind === 'virtualNode')) {
      const command = services[endpoint.host!]!.command!;
      assert.deepEqual(command.slice(0, 4), ['--name', endpoint.name, '--port', String(endpoint.appPort)]);
    }
    const front = plan.find((e) => e.name === 'front')!;
    assert.deepEqual(services.front!.command!.slice(4), ['--upstream', `http://127.0.0.1:${front.egressPort}`, '--upstream-host', 'color.colorapp.local:8080']);
  });

  it('builds meshd from this repository and serves ADS on 0.0.0.0:18000 with the SDS socket on the shared volume', () => {
    const meshd = services.meshd!;
    assert.equal(meshd.build, '.');
    assert.equal(meshd.environment!.APPMESH_SDS_SOCKET_PATH, '/run/meshd/sds.sock');
    const command = meshd.command!.join(' ');
    assert.match(command, /--xds 0\.0\.0\.0:18000/);
    assert.match(command, /--sds-socket \/run\/meshd\/sds\.sock/);
    assert.ok(meshd.volumes!.includes('meshd-sds:/run/meshd'));
    assert.deepEqual(Object.keys(compose.volumes).sort(), ['envoy-bootstraps', 'meshd-sds', 'meshd-state']);
  });

  it('parses with `docker compose config`', function () {
    const version = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    if (version.status !== 0) {
      // One line, as the brief asks: why this check did not run here.
      process.stdout.write('      (skipped: the docker client has no compose plugin: `docker compose version` failed)\n');
      this.skip();
    }
    const result = spawnSync('docker', ['compose', '-f', COMPOSE_FILE, 'config', '--quiet'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });
});
