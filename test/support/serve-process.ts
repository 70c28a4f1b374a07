// A real `meshd serve` process for CLI tests: started with loopback ports chosen by the OS,
// ready when it prints the line saying where it listens (waited for as it arrives on stderr),
// stopped by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { MESHD_BIN } from './run-cli';

export interface ServeProcess {
  child: ChildProcess;
  /** Everything it has written to stderr so far. */
  stderr(): string;
  /** `host:port` of ADS, the admin URL and the SDS target (`unix:/path`), from its ready line. */
  ads: string;
  admin: string;
  sds: string;
  /** Resolves once stderr matches (or rejects when the process exits first or time runs out). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  kill(): void;
}

const READY = /ADS on ([^;]+); SDS on (unix:[^;\s]+)(?:; admin on (http:\/\/[^;\s]+))?(?:; App Mesh API on (http:\/\/\S+))?\n/;

/**
 * Starts `meshd serve --config DIR --state-dir STATE` on loopback (`--xds 127.0.0.1:0 --admin
 * 127.0.0.1:0` unless `args` gives its own) and resolves when it is ready.
 */
export async function startServe(configDir: string, stateDir: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const defaults = [
    ...(args.includes('--xds') ? [] : ['--xds', '127.0.0.1:0']),
    ...(args.includes('--admin') || args.includes('--no-admin') ? [] : ['--admin', '127.0.0.1:0']),
  ];
  // With `--store` the mesh comes from etcd and `configDir` is not used.
  const source = args.includes('--store') ? [] : ['--config', configDir];
  const child = spawn(process.execPath, [MESHD_BIN, 'serve', ...source, '--state-dir', stateDir, ...defaults, ...args],
    { env: { ...process.env, MESHD_LOG_LEVEL: 'warn', ...env } });
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    for (const wake of [...waiters]) wake();
  });
  child.once('exit', () => { for (const wake of [...waiters]) wake(); });
  const waitFor = (pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`meshd serve never printed ${pattern}:\n${stderr}`)); }, timeoutMs);
    const check = (): void => {
      const match = pattern.exec(stderr);
      if (match) {
        clearTimeout(timer);
        waiters.delete(check);
        resolve(match);
      } else if (child.exitCode !== null) {
        clearTimeout(timer);
        waiters.delete(check);
        reject(new Error(`meshd serve exited (${child.exitCode}) before printing ${pattern}:\n${stderr}`));
      }
    };
    waiters.add(check);
    check();
  });
  try {
    const ready = await waitFor(READY);
    return {
      child,
      stderr: () => stderr,
      ads: ready[1]!,
      sds: ready[2]!,
      admin: ready[3] ?? '',
      waitFor,
      kill: () => { if (child.exitCode === null) child.kill('SIGKILL'); },
    };
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw err;
  }
}
