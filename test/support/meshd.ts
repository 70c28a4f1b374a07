// An in-process meshd (Meshd.start) for runtime tests: a fresh work directory per test with its
// specs, state directory and sockets, loopback ports chosen by the OS, stopped and removed after.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Meshd, type MeshdOptions } from '../../src/runtime/meshd';

export const COLORAPP = path.resolve(__dirname, '../../../examples/colorapp');

export interface MeshdFixture {
  meshd: Meshd;
  /** The test's work directory (removed after the test). */
  work: string;
  /** The spec directory meshd watches. */
  configDir: string;
}

export interface MeshdSetup {
  /** A spec directory to copy into the work directory (default: the demo mesh), or `false` to use `configDir` as is. */
  copyFrom?: string | false;
  /** Use this spec directory in place (with copyFrom: false). */
  configDir?: string;
  /** Writes or changes specs (or anything else) in the work directory before meshd starts. */
  prepare?: (work: string, configDir: string) => void | Promise<void>;
  /** Options beside the defaults (loopback ADS, SDS socket and state under the work directory). */
  options?: (work: string) => Partial<MeshdOptions>;
  /** `each` (default): a fresh meshd per test; `all`: one for the whole describe. */
  scope?: 'each' | 'all';
}

/** Starts a meshd before each test (or once) of the calling describe; fields are replaced before each. */
export function useMeshd(setup: MeshdSetup = {}): MeshdFixture {
  const fixture = {} as MeshdFixture;
  const start = async (): Promise<void> => {
    fixture.work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-test-'));
    const copyFrom = setup.copyFrom ?? COLORAPP;
    fixture.configDir = copyFrom === false ? setup.configDir! : path.join(fixture.work, 'mesh');
    if (copyFrom !== false) fs.cpSync(copyFrom, fixture.configDir, { recursive: true });
    await setup.prepare?.(fixture.work, fixture.configDir);
    fixture.meshd = await Meshd.start({
      configDir: fixture.configDir,
      xds: ['127.0.0.1:0'],
      sdsSocket: path.join(fixture.work, 'sds', 'sds.sock'),
      stateDir: path.join(fixture.work, 'state'),
      trustDomain: 'meshd.local',
      ...setup.options?.(fixture.work),
    });
  };
  const stop = async (): Promise<void> => {
    await fixture.meshd?.stop();
    if (fixture.work) fs.rmSync(fixture.work, { recursive: true, force: true });
  };
  if (setup.scope === 'all') {
    before(start);
    after(stop);
  } else {
    beforeEach(start);
    afterEach(stop);
  }
  return fixture;
}
