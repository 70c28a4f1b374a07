// Reading a spec directory: every .yaml, .yml and .json file directly inside it, in name order
// (so results and error order are stable), each parsed and validated; all errors collected.
// Symbolic links are followed, files and the directory itself alike, because a Kubernetes
// ConfigMap volume is made of them: `<key> -> ..data/<key>`, `..data -> ..<timestamp>/`. Names
// starting with a dot (those ConfigMap internals, editor swap files) are never read. A single
// file may stand in for the directory. Every file is size-checked on disk before it is read.
import type { ParsedSpecCache, SpecDirListing } from './parse-cache';
import { access, readdir, readlink, stat } from 'node:fs/promises';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, type BigIntStats, type Dirent, type Stats } from 'node:fs';
import * as path from 'node:path';
import { sortErrors, type SpecError } from './errors';
import { DEFAULT_SPEC_LIMITS, SPEC_LIMIT_FLAGS, type SpecLimits } from './limits';
import { parseSpecText, type DeclaredResource, type ParsedFile } from './parse';
import type { Resource } from './resource-schema';

/** Everything read from a spec directory. */
export interface LoadedSpecs {
  /** Valid resources, in file name order then document order. */
  readonly resources: readonly Resource[];
  /** Named resources that failed validation: the model does not report references to them as missing. */
  readonly invalid: readonly DeclaredResource[];
  /** Every error found, by file. */
  readonly errors: readonly SpecError[];
  /** Names of the spec files and links found in a directory (a watcher's audit compares them with what is there later). */
  readonly files?: readonly string[];
  /** Names of the spec files read through symbolic links (a watcher watches their targets too). */
  readonly linkedFiles?: readonly string[];
}

/**
 * How a load given the names of the files that changed treats the other files its cache holds:
 * `stat` takes one from the cache only when a stat finds it as it was read (so a change whose
 * event was lost is still read); `trust-watch` takes regular files as they are, without a stat, for
 * a caller whose watch on the directory names every change to them and who audits now and then
 * (`staleSpecFiles`); files reached through symbolic links are still stat-ed.
 */
export type UnchangedFiles = 'stat' | 'trust-watch';

const specExtensions = ['.yaml', '.yml', '.json'];

/** True for a file name meshd reads as a spec (dot-files such as editor backups are skipped). */
export function isSpecFile(name: string): boolean {
  return !name.startsWith('.') && specExtensions.includes(path.extname(name).toLowerCase());
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function reason(error: unknown): string {
  if (errnoCode(error) === 'ELOOP') return 'it is a symbolic link loop';
  return errnoCode(error) ?? (error instanceof Error ? error.message : String(error));
}

/**
 * What the spec source (`--config`, or the argument of `validate`) is right now. `identity`
 * (device and inode, links followed) changes when the path is replaced or a link re-pointed.
 */
export type SpecSourceProbe =
  | { readonly kind: 'directory' | 'file'; readonly identity: string }
  | { readonly kind: 'unreadable'; readonly problem: string };

/** Stats the spec source, following symbolic links; never throws. */
export async function probeSpecSource(source: string): Promise<SpecSourceProbe> {
  let stats: Stats;
  try {
    stats = await stat(source);
    // Listing a directory is what loading needs; checking it here lets readiness report it.
    if (stats.isDirectory()) await access(source, constants.R_OK | constants.X_OK);
  } catch (error) {
    return { kind: 'unreadable', problem: `cannot read spec directory: ${reason(error)}` };
  }
  if (!stats.isDirectory() && !stats.isFile()) return { kind: 'unreadable', problem: 'is neither a directory nor a file' };
  return { kind: stats.isDirectory() ? 'directory' : 'file', identity: `${stats.dev}:${stats.ino}` };
}

/** A spec-named regular file or symbolic link (whatever it leads to): what a listing looks at. */
function isListedEntry(entry: Dirent): boolean {
  return isSpecFile(entry.name) && (entry.isFile() || entry.isSymbolicLink());
}

/** One spec file to read: its name in errors, its path, and whether it is a symbolic link. */
interface SpecFileEntry {
  readonly name: string;
  readonly file: string;
  readonly linked?: boolean;
}

async function listDirectory(dir: string): Promise<SpecDirListing> {
  const listing = new Map<string, 'file' | 'link'>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (isListedEntry(entry)) listing.set(entry.name, entry.isFile() ? 'file' : 'link');
  }
  return listing;
}

/**
 * The last listing with the `changed` names looked at again, for a watcher whose watch names
 * every entry created, replaced or removed in the directory (listing thousands of entries again
 * was most of the reading of a one-file change).
 */
function relistChanged(dir: string, previous: SpecDirListing, changed: ReadonlySet<string>): SpecDirListing {
  const listing = new Map(previous);
  for (const name of changed) {
    if (!isSpecFile(name)) continue;
    try {
      const stats = lstatSync(path.join(dir, name));
      if (stats.isFile()) listing.set(name, 'file');
      else if (stats.isSymbolicLink()) listing.set(name, 'link');
      else listing.delete(name);
    } catch (error) {
      // Gone; anything else is reported when the file is read.
      if (errnoCode(error) === 'ENOENT') listing.delete(name);
      else listing.set(name, 'file');
    }
  }
  return listing;
}

/** The spec files of a listing, in name order, following symbolic links; unresolvable links are errors. */
async function specFilesOf(dir: string, listing: SpecDirListing, errors: SpecError[]): Promise<SpecFileEntry[]> {
  const files: SpecFileEntry[] = [];
  for (const name of [...listing.keys()].sort()) {
    const file = path.join(dir, name);
    if (listing.get(name) === 'file') {
      files.push({ name, file });
      continue;
    }
    try {
      // A link to a directory is a subdirectory, and subdirectories are not read.
      if ((await stat(file)).isFile()) files.push({ name, file, linked: true });
    } catch (error) {
      errors.push({ file: name, message: await brokenLinkMessage(file, error) });
    }
  }
  return files;
}

async function brokenLinkMessage(link: string, error: unknown): Promise<string> {
  if (errnoCode(error) === 'ELOOP') return 'is a symbolic link loop (it never reaches a file)';
  if (errnoCode(error) === 'ENOENT') {
    const target = await readlink(link).catch(() => '?');
    return `is a symbolic link to ${target}, which does not exist`;
  }
  return `cannot follow the symbolic link: ${reason(error)}`;
}

/**
 * The text of one file, read only if it is within the size limit. The size is taken from the
 * opened file (so a file swapped in after a check cannot slip past) and the read is bounded (so a
 * file growing while it is read cannot either). Synchronous on purpose: spec files are small and
 * local, and for a directory of thousands of them the thread-pool round trips of asynchronous
 * open, stat, read and close (not the reads) were most of a reload, which then builds the model
 * synchronously anyway.
 */
function readBounded(file: string, maxBytes: number): { text: string; stamp: string } | { problem: string } {
  const overLimit = (size: number | string): string =>
    `is ${size} bytes, over the limit of ${maxBytes} bytes for one spec file (${SPEC_LIMIT_FLAGS.maxFileBytes}); not read`;
  const fd = openSync(file, 'r');
  try {
    const stats = fstatSync(fd, { bigint: true });
    if (!stats.isFile()) return { problem: 'is not a regular file' };
    if (stats.size > BigInt(maxBytes)) return { problem: overLimit(String(stats.size)) };
    const buffer = Buffer.alloc(Math.min(Number(stats.size), maxBytes) + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > maxBytes) return { problem: overLimit(`more than ${maxBytes}`) };
    return { text: buffer.toString('utf8', 0, filled), stamp: fileStamp(stats) };
  } finally {
    closeSync(fd);
  }
}

/** Which version of a file this is, as far as its metadata tells (nanosecond times). */
function fileStamp(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

/** The stamp of a file now (following links, as a read does); undefined when it cannot be had. */
function currentStamp(file: string): string | undefined {
  try {
    return fileStamp(statSync(file, { bigint: true }));
  } catch {
    return undefined;
  }
}

/**
 * Read and validate every spec file in `source` (not its subdirectories), or the one file
 * `source` names. Errors name files relative to the directory (a single file by its base name).
 * With a cache and `changed` (the names of files that may have changed since the cache's last
 * load, as a watcher saw them), any other file the cache holds is taken from it without being
 * read when a stat finds it as it was read (inode, size, change times: a change whose event was
 * lost is still read); the directory is still listed, so added and removed files are found.
 */
export async function loadSpecDir(
  source: string,
  limits: SpecLimits = DEFAULT_SPEC_LIMITS,
  cache?: ParsedSpecCache,
  changed?: ReadonlySet<string>,
  unchangedFiles: UnchangedFiles = 'stat',
): Promise<LoadedSpecs> {
  try {
    return await readSpecSource(source, limits, cache, changed, unchangedFiles);
  } finally {
    cache?.endLoad();
  }
}

async function readSpecSource(
  source: string,
  limits: SpecLimits,
  cache: ParsedSpecCache | undefined,
  changed: ReadonlySet<string> | undefined,
  unchangedFiles: UnchangedFiles,
): Promise<LoadedSpecs> {
  const refused = (message: string, file = source): LoadedSpecs => ({ resources: [], invalid: [], errors: [{ file, message }] });
  const probe = await probeSpecSource(source);
  if (probe.kind === 'unreadable') return refused(probe.problem);
  const errors: SpecError[] = [];
  let listed: string[] = [];
  let files: SpecFileEntry[];
  if (probe.kind === 'file') {
    const name = path.basename(source);
    if (!specExtensions.includes(path.extname(name).toLowerCase())) return refused('is not a .yaml, .yml or .json spec file', name);
    files = [{ name, file: source }];
  } else {
    // A watcher that names every change gets the last listing with those names looked at again.
    const previous = cache?.listing?.dir === source && changed && unchangedFiles === 'trust-watch' ? cache.listing.entries : undefined;
    let listing: SpecDirListing;
    try {
      listing = previous ? relistChanged(source, previous, changed!) : await listDirectory(source);
    } catch (error) {
      return refused(`cannot read spec directory: ${reason(error)}`);
    }
    if (cache) cache.listing = { dir: source, entries: listing };
    listed = [...listing.keys()];
    files = await specFilesOf(source, listing, errors);
    if (files.length === 0 && errors.length === 0) return refused('no .yaml, .yml or .json spec files');
  }
  const resources: Resource[] = [];
  const invalid: DeclaredResource[] = [];
  const linkedFiles = files.flatMap((entry) => (entry.linked ? [entry.name] : []));
  for (const { name, file, linked } of files) {
    // A file the watcher saw no event for is taken from the cache, if a stat agrees it is the same
    // file, or without one when the watcher vouches for it.
    let parsed: ParsedFile | undefined;
    if (cache && changed && !changed.has(name)) {
      if (unchangedFiles === 'trust-watch' && !linked) {
        parsed = cache.reuse(name, limits);
      } else {
        const stamp = currentStamp(file);
        if (stamp !== undefined) parsed = cache.reuse(name, limits, stamp);
      }
    }
    if (!parsed) {
      let read: { text: string; stamp: string } | { problem: string };
      try {
        read = readBounded(file, limits.maxFileBytes);
      } catch (error) {
        read = { problem: `cannot read: ${reason(error)}` };
      }
      if ('problem' in read) {
        errors.push({ file: name, message: read.problem });
        continue;
      }
      parsed = cache ? cache.parse(name, read.text, limits, read.stamp) : parseSpecText(name, read.text, limits);
    }
    // Appended one by one: a spread of an unbounded array into push() overflows the stack.
    for (const resource of parsed.resources) resources.push(resource);
    for (const declared of parsed.invalid) invalid.push(declared);
    for (const error of parsed.errors) errors.push(error);
  }
  return { resources, invalid, errors: sortErrors(errors), files: listed, linkedFiles };
}

/**
 * Names of the spec files in `dir` that are not as `cache` last read them: a stat that differs
 * from the read's, or a name that is new or gone since `listed` (the last load's `files`). For a
 * watcher's periodic audit that no event was lost (an overflowing event queue, a file system
 * that reports no changes made elsewhere). Synchronous, so no load runs between its stats; files
 * that could not be read last time are not compared (their errors stand until they change).
 */
export function staleSpecFiles(dir: string, cache: ParsedSpecCache, listed: readonly string[]): string[] {
  const stale: string[] = [];
  const before = new Set(listed);
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];  // the watcher's identity check reports a directory that cannot be read
  }
  const now = new Set<string>();
  for (const entry of entries) {
    if (!isListedEntry(entry)) continue;
    now.add(entry.name);
    if (!before.has(entry.name)) {
      stale.push(entry.name);
      continue;
    }
    const stamp = cache.stampOf(entry.name);
    if (stamp !== undefined && stamp !== currentStamp(path.join(dir, entry.name))) stale.push(entry.name);
  }
  for (const name of before) if (!now.has(name)) stale.push(name);
  return stale.sort();
}

/** One spec text read from somewhere other than a directory (a store entry); `name` is its key. */
export interface NamedSpecText {
  readonly name: string;
  readonly text: string;
}

/**
 * Parse and validate spec texts already read (one store entry = one file): the same limits as
 * files on disk, errors named by entry key. An empty list is an error, as an empty directory is.
 */
export function loadSpecTexts(texts: readonly NamedSpecText[], source: string, limits: SpecLimits = DEFAULT_SPEC_LIMITS, cache?: ParsedSpecCache): LoadedSpecs {
  try {
    if (texts.length === 0) return { resources: [], invalid: [], errors: [{ file: source, message: 'no spec entries' }] };
    const resources: Resource[] = [];
    const invalid: DeclaredResource[] = [];
    const errors: SpecError[] = [];
    for (const { name, text } of texts) {
      const bytes = Buffer.byteLength(text);
      if (bytes > limits.maxFileBytes) {
        errors.push({ file: name, message: `is ${bytes} bytes, over the limit of ${limits.maxFileBytes} bytes for one spec file (${SPEC_LIMIT_FLAGS.maxFileBytes}); not read` });
        continue;
      }
      const parsed = cache ? cache.parse(name, text, limits) : parseSpecText(name, text, limits);
      for (const resource of parsed.resources) resources.push(resource);
      for (const declared of parsed.invalid) invalid.push(declared);
      for (const error of parsed.errors) errors.push(error);
    }
    return { resources, invalid, errors: sortErrors(errors) };
  } finally {
    cache?.endLoad();
  }
}
