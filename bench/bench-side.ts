// One side of the comparison at one K: a server process (meshd, or the bare baseline) and its own
// load client process with K streams open. Both sides stay up together so their pushes can be
// interleaved round by round, and a burst of outside load on the machine hits both alike.
import * as path from 'node:path';
import { ChildPeer, nowMs, type BenchEvent, type ServerStats } from './ipc';
import { mb, type PushSample } from './report';

export type ServerKind = 'meshd' | 'baseline';

/**
 * A generation as meshd encoded it: its CDS version and shared response body (base64), and the
 * CPU meshd spent building (translating) and encoding it (absent on the baseline, which loads it).
 */
export interface Generation { version: string; body: string; translateCpuMs?: number; encodeCpuMs?: number }

/** Every child process the run started, so all can be killed whatever happens. */
export const children = new Set<ChildPeer>();

function start(name: string, script: string, args: string[], env: NodeJS.ProcessEnv, execArgv: string[]): ChildPeer {
  const peer = ChildPeer.start(name, path.join(__dirname, script), args, env, execArgv);
  children.add(peer);
  return peer;
}

const PUSH_TIMEOUT_MS = 60_000;
const OPEN_TIMEOUT_MS = 180_000;
/** After the last ACK, how long the server gets to finish reading ACKs before its CPU is read. */
const SETTLE_MS = 150;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface SideOptions {
  perChannel: number;
  /** When set, each server process writes a V8 CPU profile here. */
  profileDir?: string;
}

export class BenchSide {
  readonly label: string;
  rssOpenBytes = 0;
  openMs = 0;
  readonly samples: PushSample[] = [];
  /** Reconnect storms: K streams opened anew on a running server, ms until all ACKed (measured rounds). */
  readonly subscribeSamples: number[] = [];
  private client: ChildPeer | undefined;
  private generationsSent = 0;
  private target = '';
  private perChannel = 0;
  private reopens = 0;
  private lastVersion = '';

  private constructor(readonly kind: ServerKind, readonly k: number, private readonly server: ChildPeer) {
    this.label = `[K=${k} ${kind}]`;
  }

  /** Starts the server, publishes generation 0 and opens K streams that all ACK it. */
  static async open(kind: ServerKind, k: number, generation0: Generation | undefined, options: SideOptions): Promise<{ side: BenchSide; generation0: Generation }> {
    const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${kind}-k${k}.cpuprofile`] : [];
    // No forced GC between pushes: a full collection before each push made both servers slower
    // (scavenges and lazy recompilation afterwards) and less like a long-running process.
    const nodeArgs = profile;
    const server = kind === 'meshd'
      ? start(`meshd-server K=${k}`, 'meshd-server.js', [String(k)], { MESHD_LOG_LEVEL: 'warn' }, nodeArgs)
      : start(`bare-server K=${k}`, 'bare-server.js', [], {}, nodeArgs);
    const side = new BenchSide(kind, k, server);
    const listening = await server.waitForEvent((e) => e.type === 'listening', 30_000, () => 'did not start listening');
    const initial = await side.ready(0, generation0);
    await server.request({ type: 'publish', generation: 0 });
    side.generationsSent = 1;

    const client = start(`ads-load-client K=${k} ${kind}`, 'ads-load-client.js', [], {}, []);
    side.client = client;
    client.onEvent((event: BenchEvent) => {
      if (event.type === 'progress') console.log(`${side.label} opening: ${event.opened} streams started, ${event.acked} have ACKed generation 0`);
    });
    side.target = `127.0.0.1:${Number(listening.port)}`;
    side.perChannel = options.perChannel;
    side.lastVersion = initial.version;
    const opened = await client.request<{ ms: number; channels: number }>(
      { type: 'open', target: side.target, k, perChannel: options.perChannel, version: initial.version }, OPEN_TIMEOUT_MS);
    const stats = await server.request<ServerStats>({ type: 'stats' });
    side.rssOpenBytes = stats.rssBytes;
    side.openMs = opened.ms;
    console.log(`${side.label} ${k} streams open on ${opened.channels} channels and ACKed generation 0 in ${opened.ms.toFixed(0)} ms; ` +
      `server RSS ${mb(stats.rssBytes).toFixed(1)} MB, ${stats.openStreams} streams`);
    return { side, generation0: initial };
  }

  /**
   * Gets generation g ready to publish: meshd builds (encodes) it and hands back its bytes; the
   * baseline loads exactly those bytes.
   */
  async ready(generation: number, built: Generation | undefined): Promise<Generation> {
    if (this.kind === 'meshd') return this.server.request<Generation>({ type: 'prepare', generation });
    if (!built) throw new Error(`${this.label} generation ${generation} has not been built by meshd`);
    await this.server.request({ type: 'load', generation, body: built.body });
    return built;
  }

  /** One timed push of a prepared generation; `record` false for the warm-up. */
  async push(generation: number, version: string, name: string, record: boolean): Promise<PushSample> {
    const client = this.client!;
    await client.request({ type: 'expect', version });
    const acked = client.waitForEvent((e) => (e.type === 'allAcked' && e.version === version) || e.type === 'streamFailed', PUSH_TIMEOUT_MS,
      () => `not every stream ACKed generation ${generation}`);
    const publishedAt = nowMs();
    const published = await this.server.request<{ cpuMsAtStart: number; syncMs: number }>({ type: 'publish', generation });
    const event = await acked;
    if (event.type === 'streamFailed') throw new Error(`${this.label} ${String(event.message)}`);
    this.generationsSent++;
    await sleep(SETTLE_MS);
    const stats = await this.server.request<ServerStats>({ type: 'stats' });
    this.lastVersion = version;
    const sample: PushSample = { wallMs: Number(event.lastAckAt) - publishedAt, cpuMs: stats.cpuMs - published.cpuMsAtStart, syncMs: published.syncMs };
    console.log(`${this.label} ${name}: all ${this.k} ACKed in ${sample.wallMs.toFixed(1)} ms; server CPU ${sample.cpuMs.toFixed(1)} ms ` +
      `(publish call ${sample.syncMs.toFixed(1)} ms)`);
    if (record) this.samples.push(sample);
    return sample;
  }

  /** Server stats now (RSS after the pushes). */
  stats(): Promise<ServerStats> {
    return this.server.request<ServerStats>({ type: 'stats' });
  }

  /**
   * A reconnect storm, as after a restart: every stream is closed, and once the server has seen
   * them all go, K streams open at once and subscribe; timed until each has ACKed the current
   * version. `record` false for a warm-up.
   */
  async resubscribe(name: string, record: boolean): Promise<number> {
    const client = this.client!;
    await client.request({ type: 'close' });
    const deadline = nowMs() + OPEN_TIMEOUT_MS;
    while ((await this.stats()).openStreams > 0) {
      if (nowMs() > deadline) throw new Error(`${this.label} the server still has streams open after every client stream was closed`);
      await sleep(50);
    }
    const opened = await client.request<{ ms: number }>(
      { type: 'open', target: this.target, k: this.k, perChannel: this.perChannel, version: this.lastVersion }, OPEN_TIMEOUT_MS);
    this.reopens++;
    console.log(`${this.label} ${name}: ${this.k} streams reconnected and ACKed in ${opened.ms.toFixed(0)} ms`);
    if (record) this.subscribeSamples.push(opened.ms);
    return opened.ms;
  }

  /**
   * A check that each stream got exactly one response per generation
   * (more would mean a server sent something twice, and the timings would not compare).
   */
  async finish(): Promise<void> {
    const clientStats = await this.client!.request<{ acksSent: number }>({ type: 'stats' });
    // One ACK per stream per generation pushed, and one per stream for each reconnection.
    const expected = this.k * (this.generationsSent + this.reopens);
    if (clientStats.acksSent !== expected) {
      console.log(`${this.label} WARNING: the client sent ${clientStats.acksSent} ACKs, expected ${expected} (one per stream per generation)`);
    }
    await this.client!.request({ type: 'close' });
  }

  /** Stops both processes (killing them if they do not exit promptly). */
  async stop(): Promise<void> {
    for (const peer of [this.client, this.server]) {
      if (!peer) continue;
      await peer.stop();
      children.delete(peer);
    }
  }
}
