// The orchestrator and its child processes talk over Node's IPC channel: the parent sends
// commands that each get exactly one reply (matched by id), and a child may also emit events on
// its own (progress, "every stream has ACKed"). Every message is plain JSON.
import { fork, type ChildProcess } from 'node:child_process';

/** A wall-clock time in milliseconds comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

interface RequestMessage { kind: 'request'; id: number; command: Record<string, unknown> }
interface ReplyMessage { kind: 'reply'; id: number; ok: boolean; result?: unknown; error?: string }
interface EventMessage { kind: 'event'; event: BenchEvent }

/** Something a child reports without being asked. */
export interface BenchEvent {
  type: string;
  [field: string]: unknown;
}

type ChildMessage = ReplyMessage | EventMessage;

/** The parent's handle on one child process. */
export class ChildPeer {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private readonly eventListeners: ((event: BenchEvent) => void)[] = [];
  private exited: string | undefined;

  private constructor(readonly name: string, readonly child: ChildProcess) {
    child.on('message', (message: ChildMessage) => {
      if (message.kind === 'reply') {
        const waiter = this.waiting.get(message.id);
        if (!waiter) return;
        this.waiting.delete(message.id);
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(new Error(`${name}: ${message.error}`));
      } else {
        for (const listener of [...this.eventListeners]) listener(message.event);
      }
    });
    child.on('exit', (code, signal) => {
      this.exited = `${name} exited (code ${code}, signal ${signal})`;
      for (const waiter of this.waiting.values()) waiter.reject(new Error(this.exited));
      this.waiting.clear();
    });
  }

  /** Starts a compiled bench script as a child with an IPC channel; stdout/stderr are shared. */
  static start(name: string, scriptPath: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, execArgv: string[] = []): ChildPeer {
    const child = fork(scriptPath, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
      execArgv,
    });
    return new ChildPeer(name, child);
  }

  /** Sends a command and resolves with the child's reply (or rejects on its error or exit). */
  request<T>(command: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: no reply to "${String(command.type)}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (value) => { clearTimeout(timer); resolve(value as T); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      });
      const message: RequestMessage = { kind: 'request', id, command };
      this.child.send(message);
    });
  }

  /** Resolves with the first event that matches, or rejects after the timeout or if the child exits. */
  waitForEvent(match: (event: BenchEvent) => boolean, timeoutMs: number, describe: () => string): Promise<BenchEvent> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => {
      const onExit = (): void => { cleanup(); reject(new Error(this.exited ?? `${this.name} exited`)); };
      const listener = (event: BenchEvent): void => {
        if (!match(event)) return;
        cleanup();
        resolve(event);
      };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`${this.name}: ${describe()} within ${timeoutMs} ms`)); }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        const at = this.eventListeners.indexOf(listener);
        if (at >= 0) this.eventListeners.splice(at, 1);
      };
      this.eventListeners.push(listener);
      this.child.once('exit', onExit);
    });
  }

  onEvent(listener: (event: BenchEvent) => void): void {
    this.eventListeners.push(listener);
  }

  /** Kills the child now (SIGKILL) unless it is already gone. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /**
   * Asks the child to exit by closing its IPC channel (it exits on 'disconnect', which lets
   * --cpu-prof write its profile), and kills it if it is still there after `graceMs`.
   */
  async stop(graceMs = 3000): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.whenExited();
    clearTimeout(timer);
  }

  /** Resolves once the child has exited. */
  whenExited(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.child.once('exit', () => resolve()));
  }
}

export type CommandHandler = (command: Record<string, unknown>) => unknown;

/**
 * The child's side: answers each command with the handler's (possibly async) result. A child
 * whose parent goes away exits, so no bench process outlives the run.
 */
export function serveCommands(name: string, handler: CommandHandler): void {
  if (!process.send) throw new Error(`${name} must be started by bench/run.js (it needs an IPC channel)`);
  process.on('message', (message: RequestMessage) => {
    if (message.kind !== 'request') return;
    Promise.resolve()
      .then(() => handler(message.command))
      .then(
        (result) => sendToParent({ kind: 'reply', id: message.id, ok: true, result }),
        (err: unknown) => sendToParent({ kind: 'reply', id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
}

/** Reports an event to the parent. */
export function emitEvent(event: BenchEvent): void {
  sendToParent({ kind: 'event', event });
}

function sendToParent(message: ChildMessage): void {
  if (process.connected) process.send!(message);
}

/** What both servers report when asked: their own CPU time and memory. */
export interface ServerStats {
  /** process.cpuUsage() user + system, in milliseconds. */
  cpuMs: number;
  rssBytes: number;
  openStreams: number;
}

export function ownStats(openStreams: number): ServerStats {
  const cpu = process.cpuUsage();
  return { cpuMs: (cpu.user + cpu.system) / 1000, rssBytes: process.memoryUsage().rss, openStreams };
}
