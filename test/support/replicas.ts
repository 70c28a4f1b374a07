// Several in-process meshd replicas sharing one etcd key prefix (the demo mesh imported into it),
// each with its own empty state directory, SDS socket and admin server; stopped after each test.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Meshd } from '../../src/runtime/meshd';
import { EtcdStore, importDirectory } from '../../src/store';
import { useEtcd } from './etcd';
import { COLORAPP } from './meshd';

export interface Replica {
  name: string;
  meshd: Meshd;
  store: EtcdStore;
  stateDir: string;
}

export interface ReplicasFixture {
  /** The test's work directory. */
  work: string;
  /** This test's key prefix in etcd. */
  prefix: string;
  etcdEndpoint(): string;
  start(name: string): Promise<Replica>;
  /** Every value under the prefix, as etcd holds it. */
  etcdValues(): Promise<Map<string, Buffer>>;
}

let prefixCount = 0;

export function useReplicas(): ReplicasFixture {
  const etcd = useEtcd();
  const replicas: Replica[] = [];
  let storeKey: Buffer;
  let storeKeyFile: string;
  const fixture: ReplicasFixture = {
    work: '',
    prefix: '',
    etcdEndpoint: () => etcd.etcd.endpoint,
    async start(name) {
      const store = new EtcdStore({ endpoints: [etcd.etcd.endpoint], prefix: fixture.prefix });
      const stateDir = path.join(fixture.work, name, 'state');
      try {
        const meshd = await Meshd.start({
          configDir: path.join(fixture.work, name, 'unused'),
          store,
          shared: { store, storeKey, storeKeyFile, leaseTtlSeconds: 1, checkIntervalMs: 100 },
          xds: ['127.0.0.1:0'],
          admin: '127.0.0.1:0',
          sdsSocket: path.join(fixture.work, name, 'sds.sock'),
          stateDir,
          trustDomain: 'meshd.local',
        });
        const replica = { name, meshd, store, stateDir };
        replicas.push(replica);
        return replica;
      } catch (err) {
        store.close();
        throw err;
      }
    },
    async etcdValues() {
      const store = new EtcdStore({ endpoints: [etcd.etcd.endpoint], prefix: fixture.prefix });
      try {
        const response = await store.shared.client.getAll().prefix(fixture.prefix).exec();
        return new Map(response.kvs.map((kv) => [kv.key.toString('utf8'), kv.value]));
      } finally {
        store.close();
      }
    },
  };
  beforeEach(async () => {
    fixture.work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-replicas-'));
    fixture.prefix = `/replicas-${process.pid}-${++prefixCount}/`;
    storeKey = randomBytes(32);
    storeKeyFile = path.join(fixture.work, 'store.key');
    fs.writeFileSync(storeKeyFile, storeKey.toString('base64'), { mode: 0o600 });
    const seed = new EtcdStore({ endpoints: [etcd.etcd.endpoint], prefix: fixture.prefix });
    try {
      await importDirectory(seed, COLORAPP);
    } finally {
      seed.close();
    }
  });
  afterEach(async () => {
    await Promise.all(replicas.splice(0).map(async (replica) => {
      await replica.meshd.stop();
      replica.store.close();
    }));
    fs.rmSync(fixture.work, { recursive: true, force: true });
  });
  return fixture;
}
