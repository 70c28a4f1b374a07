// A real etcd for tests: Debian's `etcd-server` (/usr/bin/etcd, etcd 3.4) or the binary
// MESHD_ETCD names, started on free loopback ports with a temporary data directory, ready once it
// logs that it serves clients, stopped by its PID. Tests that need one skip (saying so in one
// line) only when no etcd binary can be found here.
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

export interface EtcdProcess {
  /** `127.0.0.1:PORT` of its client listener. */
  readonly endpoint: string;
  readonly pid: number;
  /** Everything it logged, for failure messages. */
  log(): string;
  stop(): Promise<void>;
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

/** Starts one single-member etcd; rejects with its log if it exits or is not ready in time. */
export async function startEtcd(bin: string, readyTimeoutMs = 20_000): Promise<EtcdProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child: ChildProcess = spawn(bin, [
    '--name', 'test', '--data-dir', dataDir,
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `test=${peer}`, '--initial-cluster-state', 'new',
    '--logger', 'zap', '--log-outputs', 'stderr',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`etcd on ${client} not ready after ${readyTimeoutMs} ms:\n${output}`)), readyTimeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (READY_LINE.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`etcd on ${client} exited before it was ready:\n${output}`));
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await ready;
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint: `127.0.0.1:${clientPort}`, pid: child.pid!, log: () => output, stop };
}

/**
 * One etcd for the calling describe (started in `before`, stopped in `after`); the describe's
 * tests skip, with one line, when this machine has no etcd.
 */
export function useEtcd(): { etcd: EtcdProcess } {
  const fixture = {} as { etcd: EtcdProcess };
  before(async function () {
    const bin = findEtcd();
    if (!bin) {
      console.log('    skipped: no etcd here (apt-get install etcd-server, or set MESHD_ETCD)');
      this.skip();
    }
    fixture.etcd = await startEtcd(bin);
  });
  after(async () => {
    await fixture.etcd?.stop();
  });
  return fixture;
}
