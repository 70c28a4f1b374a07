// Durable writes for state files and private keys: write a temporary file in the same directory
// (so the rename cannot cross file systems), fsync it, rename it over the target, then fsync the
// directory so the rename itself survives a crash. Readers see the old content or the new, never
// a partial file; a key is never readable by anyone but its owner, not even for a moment.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as fsSync from 'node:fs';

/** Creates `dir` (and parents) if missing and makes sure it is mode `mode` (default 0700). */
export async function ensurePrivateDir(dir: string, mode = 0o700): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode });
  await fs.chmod(dir, mode);
}

/** Atomically replaces `file` with `data`, created with `mode` (0600 unless told otherwise). */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(temp, 'wx', mode);
  } catch (err) {
    throw new Error(`writing ${file}: ${(err as Error).message}`);
  }
  try {
    await handle.writeFile(data);
    await handle.chmod(mode); // open() filters the mode through the umask; set it exactly
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.rm(temp, { force: true });
    throw new Error(`writing ${file}: ${(err as Error).message}`);
  }
  await handle.close();
  try {
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw new Error(`replacing ${file}: ${(err as Error).message}`);
  }
  const dirHandle = await fs.open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** The same, synchronously, for small files written at start-up (credential keys, agent files). */
export function writeFileAtomicSync(target: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fsSync.openSync(temp, 'wx', mode);
  try {
    fsSync.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsSync.fsyncSync(fd);
  } finally {
    fsSync.closeSync(fd);
  }
  try {
    fsSync.chmodSync(temp, mode); // the umask may have narrowed or widened what openSync asked for
    fsSync.renameSync(temp, target);
  } catch (err) {
    fsSync.rmSync(temp, { force: true });
    throw err;
  }
  try {
    const dirFd = fsSync.openSync(dir, 'r');
    fsSync.fsyncSync(dirFd);
    fsSync.closeSync(dirFd);
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  }
}

/** A file's text, or undefined when it does not exist; other errors name the file. */
export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}
