// Every process the Envoy end-to-end runner starts goes through one ProcessManager, which owns
// their ids. Each child is the leader of its own process group (detached), so teardown can signal
// the group and catch whatever the child started itself (a shell wrapper, an Envoy hot-restart
// child). Teardown is SIGTERM, a grace period, then SIGKILL; it also runs synchronously from
// process 'exit' and on SIGINT/SIGTERM/uncaught errors, so a failing or interrupted run never
// leaves an Envoy or meshd behind. Nothing is ever killed by name: only the ids recorded here.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One process started through the manager. */
export interface ManagedProcess {
  /** Short name used in logs and error messages (e.g. `envoy front`). */
  readonly name: string;
  /** Process id; also the id of its process group. */
  readonly pid: number;
  readonly child: ChildProcess;
  /** File that receives the process's stdout and stderr. */
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
}

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** True while a process (or process group, for a negative id) with this id exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else; for our own children that means recycled.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // Already gone (ESRCH); the other target may still exist.
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class ProcessManager {
  private readonly running = new Map<number, ManagedProcess>();
  private readonly started: number[] = [];
  private handlersInstalled = false;
  private readonly onExit = (): void => this.killAllNow();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.killAllNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  private readonly onUncaught = (err: unknown): void => {
    this.killAllNow();
    process.stderr.write(`envoy-e2e: uncaught error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  };

  /** @param logDir directory for the per-process log files (created if missing). */
  constructor(private readonly logDir: string) {
    fs.mkdirSync(logDir, { recursive: true });
  }

  /**
   * Makes sure children die with this process: on exit, SIGINT, SIGTERM and uncaught errors.
   * Idempotent; removed again by teardown().
   */
  installExitHandlers(): void {
    if (this.handlersInstalled) return;
    this.handlersInstalled = true;
    process.on('exit', this.onExit);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onUncaught);
  }

  private removeExitHandlers(): void {
    if (!this.handlersInstalled) return;
    this.handlersInstalled = false;
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    process.off('uncaughtException', this.onUncaught);
    process.off('unhandledRejection', this.onUncaught);
  }

  /** Starts `command args` in its own process group, output to `<logDir>/<name>.log`. */
  start(name: string, command: string, args: readonly string[], options: StartOptions = {}): ManagedProcess {
    const logFile = path.join(this.logDir, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.log`);
    const out = fs.openSync(logFile, 'a');
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', out, out],
    };
    let child: ChildProcess;
    try {
      child = spawn(command, [...args], spawnOptions);
    } finally {
      fs.closeSync(out);
    }
    if (child.pid === undefined) {
      // The 'error' event (ENOENT, EACCES) follows asynchronously; it is this throw's to report.
      child.once('error', () => undefined);
      throw new Error(`${name}: could not start ${command}: no process id (is it installed and executable?)`);
    }
    const pid = child.pid;
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => {
        this.running.delete(pid);
        resolve(code ?? signal ?? 'unknown');
      });
      child.once('error', () => {
        this.running.delete(pid);
        resolve('spawn-error');
      });
    });
    const managed: ManagedProcess = { name, pid, child, logFile, exited };
    this.running.set(pid, managed);
    this.started.push(pid);
    return managed;
  }

  /** Ids of every process started so far, exited or not. */
  startedPids(): number[] {
    return [...this.started];
  }

  /** Processes started here that have not exited yet. */
  live(): ManagedProcess[] {
    return [...this.running.values()];
  }

  /** The last `lines` lines of a process's log, for error messages. */
  tail(proc: ManagedProcess, lines = 20): string {
    try {
      return fs.readFileSync(proc.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Stops one process group: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(proc: ManagedProcess, graceMs = 5000): Promise<void> {
    if (!this.running.has(proc.pid)) {
      // The leader exited; whatever it left in its group still goes.
      if (isAlive(-proc.pid)) signalGroup(proc.pid, 'SIGKILL');
      return;
    }
    signalGroup(proc.pid, 'SIGTERM');
    const timedOut = await Promise.race([proc.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut || isAlive(-proc.pid)) signalGroup(proc.pid, 'SIGKILL');
    await proc.exited;
  }

  /** Stops every process started here (newest first), then removes the exit handlers. */
  async teardown(graceMs = 5000): Promise<void> {
    const order = [...this.started].reverse();
    const byPid = new Map(order.map((pid) => [pid, this.running.get(pid)]));
    await Promise.all(order.map(async (pid) => {
      const proc = byPid.get(pid);
      if (proc) await this.stop(proc, graceMs);
      else if (isAlive(-pid)) signalGroup(pid, 'SIGKILL');
    }));
    this.removeExitHandlers();
  }

  /** Synchronous last resort (process 'exit' cannot wait): SIGKILL every recorded group. */
  killAllNow(): void {
    // Only groups whose leader is still ours and running: an id whose leader exited long ago
    // may since have been given to someone else's process.
    for (const pid of this.running.keys()) signalGroup(pid, 'SIGKILL');
  }
}
