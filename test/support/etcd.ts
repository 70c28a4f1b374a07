// A real etcd for tests: Debian's `etcd-server` (/usr/bin/etcd, etcd 3.4) or the binary
// MESHD_ETCD names, started on free loopback ports with a temporary data directory, ready once it
// logs that it serves clients, stopped by its PID. Tests that need one skip (saying so in one
// line) only when no etcd binary can be found here.
//
// Beyond one plain member: client TLS (`tls`), a member halted and restarted on the same data
// directory and ports (an outage), and a cluster of several members on loopback ports.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** The etcd binary on this machine, if there is one that runs. */
export function findEtcd(): string | undefined {
  const candidates = [process.env.MESHD_ETCD, '/usr/bin/etcd', '/usr/local/bin/etcd'].filter((c): c is string => Boolean(c));
  for (const bin of candidates) {
    if (!fs.existsSync(bin)) continue;
    try {
      if (/etcd Version: 3\./.test(execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 }))) return bin;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Client TLS of a member: its certificate and key, and (for client certificate auth) the CA it trusts. */
export interface EtcdServerTls {
  certFile: string;
  keyFile: string;
  /** Require client certificates signed by this CA. */
  clientCaFile?: string;
}

export interface EtcdOptions {
  readyTimeoutMs?: number;
  /** Serve clients over TLS (https). */
  tls?: EtcdServerTls;
}

export interface EtcdProcess {
  /** `127.0.0.1:PORT` of its client listener. */
  readonly endpoint: string;
  /** The PID of the running process (a new one after `restart`). */
  readonly pid: number;
  /** Everything it logged, for failure messages. */
  log(): string;
  /** Stops it (SIGTERM, by PID) and removes its data directory. */
  stop(): Promise<void>;
  /** Stops it by PID (SIGKILL with `kill`, else SIGTERM), keeping its data directory and ports. */
  halt(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same data directory and ports; resolves once it serves clients. */
  restart(): Promise<void>;
}

/** A loopback port that was free a moment ago (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** What etcd 3.4 logs (zap logger) when its client listener accepts requests (TLS or not). */
const READY_LINE = /"msg":"serving client traffic (in)?securely/;

interface MemberPlan {
  name: string;
  dataDir: string;
  clientPort: number;
  peerPort: number;
  /** `name=http://127.0.0.1:PEER,…` of every member. */
  initialCluster: string;
  tls?: EtcdServerTls;
  readyTimeoutMs: number;
}

/** One member process, restartable on the same plan (etcd ignores the initial-cluster flags once its data directory exists). */
function member(bin: string, plan: MemberPlan): EtcdProcess & { started: Promise<void> } {
  const scheme = plan.tls ? 'https' : 'http';
  const client = `${scheme}://127.0.0.1:${plan.clientPort}`;
  const peer = `http://127.0.0.1:${plan.peerPort}`;
  const tlsArgs = plan.tls
    ? ['--cert-file', plan.tls.certFile, '--key-file', plan.tls.keyFile, ...(plan.tls.clientCaFile ? ['--client-cert-auth', '--trusted-ca-file', plan.tls.clientCaFile] : [])]
    : [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const launch = async (): Promise<void> => {
    const started = spawn(bin, [
      '--name', plan.name, '--data-dir', plan.dataDir,
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', plan.initialCluster, '--initial-cluster-state', 'new',
      ...tlsArgs,
      '--logger', 'zap', '--log-outputs', 'stderr',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`etcd ${plan.name} on ${client} not ready after ${plan.readyTimeoutMs} ms:\n${output}`)), plan.readyTimeoutMs);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        seen += chunk.toString();
        if (READY_LINE.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      };
      started.stdout!.on('data', onData);
      started.stderr!.on('data', onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`etcd ${plan.name} on ${client} exited before it was ready:\n${output}`));
      });
    });
  };
  const halt = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, signal);
      await exited;
    }
  };
  const started = launch();
  return {
    endpoint: `127.0.0.1:${plan.clientPort}`,
    get pid() { return child!.pid!; },
    log: () => output,
    started,
    halt,
    restart: launch,
    stop: async () => {
      await halt();
      fs.rmSync(plan.dataDir, { recursive: true, force: true });
    },
  };
}

/** Starts one single-member etcd; rejects with its log if it exits or is not ready in time. */
export async function startEtcd(bin: string, readyTimeoutOrOptions: number | EtcdOptions = {}): Promise<EtcdProcess> {
  const options = typeof readyTimeoutOrOptions === 'number' ? { readyTimeoutMs: readyTimeoutOrOptions } : readyTimeoutOrOptions;
  return (await startEtcdCluster(bin, 1, options))[0]!;
}

/** Starts `size` members forming one cluster on loopback ports; resolves once every one serves clients. */
export async function startEtcdCluster(bin: string, size: number, options: EtcdOptions = {}): Promise<EtcdProcess[]> {
  const plans: Omit<MemberPlan, 'initialCluster'>[] = [];
  for (let n = 0; n < size; n++) {
    plans.push({
      name: size === 1 ? 'test' : `member-${n}`,
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-etcd-')),
      clientPort: await freePort(),
      peerPort: await freePort(),
      ...(options.tls ? { tls: options.tls } : {}),
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
    });
  }
  const initialCluster = plans.map((p) => `${p.name}=http://127.0.0.1:${p.peerPort}`).join(',');
  const members = plans.map((plan) => member(bin, { ...plan, initialCluster }));
  const results = await Promise.allSettled(members.map((m) => m.started));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(members.map((m) => m.stop()));
    throw failed.reason;
  }
  return members;
}

/** The etcd binary, or a one-line skip of the calling hook's tests. */
export function etcdOrSkip(context: Mocha.Context): string {
  const bin = findEtcd();
  if (!bin) {
    console.log('    skipped: no etcd here (apt-get install etcd-server, or set MESHD_ETCD)');
    context.skip();
  }
  return bin;
}

/**
 * One etcd for the calling describe (started in `before`, stopped in `after`); the describe's
 * tests skip, with one line, when this machine has no etcd.
 */
export function useEtcd(options: EtcdOptions = {}): { etcd: EtcdProcess } {
  const fixture = {} as { etcd: EtcdProcess };
  before(async function () {
    fixture.etcd = await startEtcd(etcdOrSkip(this), options);
  });
  after(async () => {
    await fixture.etcd?.stop();
  });
  return fixture;
}
