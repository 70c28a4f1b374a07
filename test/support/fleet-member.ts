// A fleet member in its own process, for tests that kill one with SIGKILL: it registers replica
// `name` with one proxy under `prefix` on the etcd at `endpoint`, prints "registered", and runs
// until killed. Run: node dist/test/support/fleet-member.js ENDPOINT PREFIX NAME TTL_SECONDS
import { Etcd3 } from 'etcd3';
import { FleetRegistry } from '../../src/store/fleet-registry';

async function main([endpoint, prefix, name, ttl]: string[]): Promise<void> {
  const registry = new FleetRegistry({
    client: new Etcd3({ hosts: `http://${endpoint!}` }),
    prefix: prefix!,
    replica: { name: name!, xds: [], startedAt: new Date().toISOString() },
    proxies: () => [{ nodeId: `mesh/m/virtualNode/${name!}`, endpoint: `mesh/m/virtualNode/${name!}`, since: new Date().toISOString(), streams: ['ADS/sotw'], types: {} }],
    leaseTtlSeconds: Number(ttl),
  });
  await registry.start();
  process.stdout.write('registered\n');
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
