// Parsed spec files kept between loads of the same directory, so a change to one file parses
// only that file: a file whose text (and the limits it was read under) did not change gives back
// the same parse result. The watcher keeps one cache for its directory; a one-off load needs none.
import type { SpecLimits } from './limits';
import { parseSpecText, type ParsedFile } from './parse';

/** Spec-named entries of a directory by name: regular files, and symbolic links (whatever they lead to). */
export type SpecDirListing = ReadonlyMap<string, 'file' | 'link'>;

export class ParsedSpecCache {
  private readonly files = new Map<string, { text: string; limits: SpecLimits; parsed: ParsedFile; stamp: string | undefined }>();
  private seen = new Set<string>();
  /** What the last load of a directory listed (load.ts): a watcher's next load looks again only at the names it reports. */
  listing: { readonly dir: string; readonly entries: SpecDirListing } | undefined;

  /**
   * The parse of `text` as file `name`: from the cache when both are as last time. `stamp` says
   * which version of the file on disk the text was read from (see reuse).
   */
  parse(name: string, text: string, limits: SpecLimits, stamp?: string): ParsedFile {
    this.seen.add(name);
    const cached = this.files.get(name);
    if (cached && cached.text === text && sameLimits(cached.limits, limits)) {
      cached.stamp = stamp;
      return cached.parsed;
    }
    const parsed = parseSpecText(name, text, limits);
    this.files.set(name, { text, limits, parsed, stamp });
    return parsed;
  }

  /**
   * The last parse of file `name`, without reading it again, for a load that believes the file
   * has not changed since (a watcher that saw no event for it). With a `stamp` (the file's stat
   * now), only when it is the stamp the file was read with; without one, the caller vouches for
   * the file (a watch on its directory would have named it). Undefined: the file must be read.
   */
  reuse(name: string, limits: SpecLimits, stamp?: string): ParsedFile | undefined {
    const cached = this.files.get(name);
    // The stamp (inode, size, change times) guards against a change whose event was lost.
    if (!cached || (stamp !== undefined && cached.stamp !== stamp) || !sameLimits(cached.limits, limits)) return undefined;
    this.seen.add(name);
    return cached.parsed;
  }

  /** The stamp file `name` was last read with, if it was read and stamped. */
  stampOf(name: string): string | undefined {
    return this.files.get(name)?.stamp;
  }

  /** Ends one load: forgets the files it did not read (deleted or renamed). */
  endLoad(): void {
    for (const name of [...this.files.keys()]) if (!this.seen.has(name)) this.files.delete(name);
    this.seen = new Set();
  }
}

function sameLimits(a: SpecLimits, b: SpecLimits): boolean {
  return a.maxFileBytes === b.maxFileBytes && a.maxDocuments === b.maxDocuments && a.maxAliases === b.maxAliases;
}
