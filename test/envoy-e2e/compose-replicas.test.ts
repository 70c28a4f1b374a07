// docker-compose.replicas.yml, checked without Docker: every meshd command in it uses flags the
// meshd CLI defines, the replicas and the import share one store URL naming exactly the three
// etcd members (which form one cluster), every Envoy bootstrap lists every replica and an SDS
// socket a replica serves, and the demo Envoys and applications are those of
// docker-compose.envoy.yml.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { buildProgram } from '../../src/cli/main';
import { buildEnvoyBootstrap, renderBootstrapYaml, XDS_CLUSTER_NAME } from '../../src/envoy/bootstrap';
import { parseStoreUrl } from '../../src/store';
import { COMPOSE_FILE } from './docker-mode';
import { COMPOSE_MESH_DIR } from './compose-mesh';
import { planMesh } from './mesh-plan';
import { REPO_ROOT } from './runner';

const REPLICAS_FILE = path.join(REPO_ROOT, 'docker-compose.replicas.yml');
const REPLICAS = ['meshd-1', 'meshd-2', 'meshd-3'];
const MEMBERS = ['etcd-1', 'etcd-2', 'etcd-3'];

interface ComposeService {
  image?: string;
  build?: unknown;
  entrypoint?: string[];
  command?: string[];
  volumes?: string[];
  ports?: string[];
  network_mode?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
type ComposeFile = { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

const load = (file: string): ComposeFile => parse(fs.readFileSync(file, 'utf8'), { merge: true }) as ComposeFile;

/** The meshd arguments of a service: its command, or the `node bin/meshd.js …` line of its shell script. */
function meshdArgs(service: ComposeService, script = false): string[] {
  if (!script) return service.command!;
  const text = service.command!.join('\n').replace(/\\\n\s*/g, ' ');
  const line = /node bin\/meshd\.js ([^\n>]+)/.exec(text);
  assert.ok(line, 'the script runs meshd');
  return line[1]!.trim().split(/\s+/).map((word) => word.replace(/^"(.*)"$/, '$1'));
}

/** The value after `flag` in `args`. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}

/** Checks `args` (`serve …`, `store import …`) against the meshd CLI: known subcommand, known flags, values where they take one. */
function checkAgainstCli(args: readonly string[], where: string): void {
  let command: Command = buildProgram();
  let rest = [...args];
  while (rest[0] && !rest[0].startsWith('-')) {
    const sub = command.commands.find((c) => c.name() === rest[0]);
    if (!sub) break;
    command = sub;
    rest = rest.slice(1);
  }
  assert.notEqual(command.name(), 'meshd', `${where}: ${args[0]} is not a meshd command`);
  for (let n = 0; n < rest.length; n++) {
    const word = rest[n]!;
    if (!word.startsWith('--')) continue;
    const option = command.options.find((o) => o.long === word);
    assert.ok(option, `${where}: meshd ${command.name()} has no ${word}`);
    if (option.required) {
      assert.ok(rest[n + 1] !== undefined && !rest[n + 1]!.startsWith('--'), `${where}: ${word} needs a value`);
      n++;
    }
  }
}

describe('envoy-e2e: docker-compose.replicas.yml', () => {
  const compose = load(REPLICAS_FILE);
  const services = compose.services;
  const replicaArgs = REPLICAS.map((name) => meshdArgs(services[name]!, false));
  const storeUrl = flagValue(replicaArgs[0]!, '--store')!;

  it('runs meshd with flags the meshd CLI defines', () => {
    REPLICAS.forEach((name, n) => checkAgainstCli(replicaArgs[n]!, name));
    checkAgainstCli(services['store-import']!.command!, 'store-import');
    checkAgainstCli(meshdArgs(services.bootstrap!, true), 'bootstrap');
  });

  it('points every replica and the import at one store URL naming the three etcd members of one cluster', () => {
    const target = parseStoreUrl(storeUrl);
    assert.deepEqual(target.endpoints, MEMBERS.map((m) => `${m}:2379`));
    for (const args of [...replicaArgs, services['store-import']!.command!]) assert.equal(flagValue(args, '--store'), storeUrl);
    const initialCluster = MEMBERS.map((m) => `${m}=http://${m}:2380`).join(',');
    for (const member of MEMBERS) {
      const args = services[member]!.command!;
      assert.equal(flagValue(args, '--name'), member);
      assert.equal(flagValue(args, '--advertise-client-urls'), `http://${member}:2379`);
      assert.equal(flagValue(args, '--initial-advertise-peer-urls'), `http://${member}:2380`);
      assert.equal(flagValue(args, '--initial-cluster'), initialCluster);
      assert.ok(services[member]!.volumes!.includes(`${member}-data:/etcd-data`), `${member} keeps its data on its own volume`);
      assert.match(services[member]!.image!, /^gcr\.io\/etcd-development\/etcd:v3\.\d+\.\d+$/, 'a pinned etcd image');
    }
  });

  it('gives each replica its own state and SDS socket on the shared volume, and the one key-encryption key the store-key service makes', () => {
    const sockets = replicaArgs.map((args) => flagValue(args, '--sds-socket'));
    assert.deepEqual(sockets, REPLICAS.map((name) => `/run/meshd/${name}.sock`));
    REPLICAS.forEach((name, n) => {
      const service = services[name]!;
      assert.equal(flagValue(replicaArgs[n]!, '--xds'), '0.0.0.0:18000');
      assert.equal(flagValue(replicaArgs[n]!, '--replica-name'), name);
      assert.equal(flagValue(replicaArgs[n]!, '--store-key-file'), '/etc/meshd-key/store.key');
      assert.ok(service.volumes!.includes(`${name}-state:/var/lib/meshd`));
      assert.ok(service.volumes!.includes('meshd-sds:/run/meshd'));
      assert.ok(service.volumes!.includes('meshd-store-key:/etc/meshd-key:ro'), `${name} reads the key, never writes it`);
      assert.match(service.healthcheck!.test.join(' '), /127\.0\.0\.1:18001\/readyz/, 'healthy means ready, store included');
      assert.equal(service.depends_on!['store-import']!.condition, 'service_completed_successfully');
      assert.equal(service.depends_on!['store-key']!.condition, 'service_completed_successfully');
    });
    const keygen = services['store-key']!;
    assert.ok(keygen.volumes!.includes('meshd-store-key:/etc/meshd-key'));
    const script = keygen.command!.join('\n');
    assert.match(script, /^\[ -e \/etc\/meshd-key\/store\.key \] \|\| node bin\/meshd\.js store keygen \/etc\/meshd-key\/store\.key$/, 'made once, never replaced');
    checkAgainstCli(['store', 'keygen', '/etc/meshd-key/store.key'], 'store-key');
  });

  it('bootstraps every Envoy with all three replicas as xDS endpoints and one replica\'s SDS socket', () => {
    const script = services.bootstrap!.command!.join('\n');
    const args = meshdArgs(services.bootstrap!, true);
    const xds = flagValue(args, '--xds')!.split(',');
    assert.deepEqual(xds, REPLICAS.map((name) => `${name}:18000`));
    const bootstrap = buildEnvoyBootstrap({ nodeId: 'mesh/colorapp/virtualNode/front', xdsAddresses: xds, sdsSocketPath: '/run/meshd/meshd-1.sock', credential: { header: 'x-meshd-node-token', value: 't' } });
    const cluster = (parse(renderBootstrapYaml(bootstrap)) as { static_resources: { clusters: { name: string; type: string; load_assignment: { endpoints: { lb_endpoints: unknown[] }[] } }[] } })
      .static_resources.clusters.find((c) => c.name === XDS_CLUSTER_NAME)!;
    assert.equal(cluster.type, 'STRICT_DNS');
    assert.equal(cluster.load_assignment.endpoints[0]!.lb_endpoints.length, 3);
    for (const endpoint of planMesh(COMPOSE_MESH_DIR)) {
      const line = new RegExp(`^\\s*gen ${endpoint.kind} ${endpoint.name} ${endpoint.adminPort} (meshd-\\d)$`, 'm').exec(script);
      assert.ok(line, `the bootstrap service writes ${endpoint.name}'s bootstrap`);
      assert.ok(REPLICAS.includes(line[1]!), `${endpoint.name} gets its secrets from a replica`);
    }
    assert.match(script, /--sds-socket "\/run\/meshd\/\$\$4\.sock"/);
  });

  it('runs the same demo Envoys and applications as docker-compose.envoy.yml', () => {
    const single = load(COMPOSE_FILE).services;
    for (const name of ['gateway', 'front', 'front-envoy', 'color-blue', 'color-blue-envoy', 'color-green', 'color-green-envoy']) {
      assert.deepEqual(services[name], single[name], `${name} differs from docker-compose.envoy.yml`);
    }
    assert.deepEqual(Object.keys(compose.volumes).sort(), [...MEMBERS.map((m) => `${m}-data`), ...REPLICAS.map((r) => `${r}-state`), 'envoy-bootstraps', 'meshd-sds', 'meshd-store-key'].sort());
  });

  it('parses with `docker compose config`', function () {
    if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status !== 0) {
      process.stdout.write('      (skipped: the docker client has no compose plugin: `docker compose version` failed)\n');
      this.skip();
    }
    const result = spawnSync('docker', ['compose', '-f', REPLICAS_FILE, 'config', '--quiet'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });
});
