import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isAlive, ProcessManager } from './process-manager';

// A dummy that ignores SIGTERM and starts a grandchild in its own process group: teardown must
// still remove both (SIGKILL after the grace period, and the whole group).
const STUBBORN = `
process.on('SIGTERM', () => {});
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
require('node:fs').writeFileSync(process.argv[1], String(child.pid));
setInterval(() => {}, 1000);
`;

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('envoy-e2e/process-manager', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-pm-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stops every process it started, by id, including grandchildren and ones that ignore SIGTERM', async () => {
    const manager = new ProcessManager(path.join(dir, 'logs'));
    const plain = manager.start('sleeper', process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    const grandchildFile = path.join(dir, 'grandchild.pid');
    const stubborn = manager.start('stubborn', process.execPath, ['-e', STUBBORN, grandchildFile]);
    await until(() => fs.existsSync(grandchildFile) && fs.readFileSync(grandchildFile, 'utf8') !== '');
    const grandchild = Number(fs.readFileSync(grandchildFile, 'utf8'));
    const pids = [plain.pid, stubborn.pid, grandchild];
    assert.ok(pids.every(isAlive), 'all running before teardown');
    assert.deepEqual(manager.startedPids(), [plain.pid, stubborn.pid]);
    await manager.teardown(300);
    await until(() => pids.every((pid) => !isAlive(pid)));
    assert.equal(manager.live().length, 0);
  });

  it('tears down after a thrown error in the code that started them', async () => {
    const manager = new ProcessManager(path.join(dir, 'logs'));
    const started: number[] = [];
    const scenario = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) started.push(manager.start(`dummy ${i}`, process.execPath, ['-e', 'setInterval(() => {}, 1000)']).pid);
      throw new Error('scenario failed');
    };
    await assert.rejects(async () => {
      try {
        await scenario();
      } finally {
        await manager.teardown(1000);
      }
    }, /scenario failed/);
    await until(() => started.every((pid) => !isAlive(pid)));
  });

  it('kills its children when the runner process itself dies of an uncaught error', async () => {
    const pidFile = path.join(dir, 'child.pid');
    const script = `
      const { ProcessManager } = require(${JSON.stringify(path.join(__dirname, 'process-manager.js'))});
      const manager = new ProcessManager(${JSON.stringify(path.join(dir, 'logs'))});
      manager.installExitHandlers();
      const child = manager.start('orphan-to-be', process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
      require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
      setTimeout(() => { throw new Error('boom'); }, 100);
    `;
    const runner = new ProcessManager(path.join(dir, 'outer-logs'));
    const proc = runner.start('runner', process.execPath, ['-e', script]);
    assert.equal(await proc.exited, 1);
    const child = Number(fs.readFileSync(pidFile, 'utf8'));
    await until(() => !isAlive(child));
    assert.match(runner.tail(proc), /uncaught error: Error: boom/);
    await runner.teardown(100);
  });

  it('names a command that cannot start', async () => {
    const manager = new ProcessManager(path.join(dir, 'logs'));
    assert.throws(() => manager.start('ghost', path.join(dir, 'no-such-envoy'), []), /ghost: could not start .*no-such-envoy/);
    assert.deepEqual(manager.startedPids(), []);
    await manager.teardown(100);
  });
});
