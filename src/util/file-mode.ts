// Secrets and the directories holding them must not be open to others. meshd narrows a mode it
// finds too wide instead of refusing to start (an operator's chmod or a restored backup is the
// usual cause), but always says so: a silently corrected mode hides how it got that way.
import { promises as fs } from 'node:fs';
import * as fsSync from 'node:fs';
import type { Logger } from '../log';

/** Removes every mode bit of `file` outside `allowed`, logging a warning when it had any. */
export async function narrowMode(file: string, allowed: number, log: Logger, what: string): Promise<void> {
  const mode = (await fs.stat(file)).mode & 0o777;
  if ((mode & ~allowed) === 0) return;
  await fs.chmod(file, mode & allowed);
  warnNarrowed(log, file, mode, mode & allowed, what);
}

/** The same, synchronously, for files read at start-up by synchronous code. */
export function narrowModeSync(file: string, allowed: number, log: Logger, what: string): void {
  const mode = fsSync.statSync(file).mode & 0o777;
  if ((mode & ~allowed) === 0) return;
  fsSync.chmodSync(file, mode & allowed);
  warnNarrowed(log, file, mode, mode & allowed, what);
}

function warnNarrowed(log: Logger, file: string, mode: number, narrowed: number, what: string): void {
  log.warn({ file, mode: mode.toString(8), narrowedTo: narrowed.toString(8).padStart(3, '0') }, `${what} had a wider mode than ${narrowed.toString(8).padStart(4, '0')}; narrowed it`);
}
