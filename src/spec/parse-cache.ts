// Parsed spec files kept between loads of the same directory, so a change to one file parses
// only that file: a file whose text (and the limits it was read under) did not change gives back
// the same parse result. The watcher keeps one cache for its directory; a one-off load needs none.
import type { SpecLimits } from './limits';
import { parseSpecText, type ParsedFile } from './parse';

export class ParsedSpecCache {
  private readonly files = new Map<string, { text: string; limits: SpecLimits; parsed: ParsedFile }>();
  private seen = new Set<string>();

  /** The parse of `text` as file `name`: from the cache when both are as last time. */
  parse(name: string, text: string, limits: SpecLimits): ParsedFile {
    this.seen.add(name);
    const cached = this.files.get(name);
    if (cached && cached.text === text && sameLimits(cached.limits, limits)) return cached.parsed;
    const parsed = parseSpecText(name, text, limits);
    this.files.set(name, { text, limits, parsed });
    return parsed;
  }

  /**
   * The last parse of file `name`, without reading it again, for a load that knows the file has
   * not changed since (a watcher that saw no event for it); undefined when there is none under
   * these limits, and the file must be read.
   */
  reuse(name: string, limits: SpecLimits): ParsedFile | undefined {
    const cached = this.files.get(name);
    if (!cached || !sameLimits(cached.limits, limits)) return undefined;
    this.seen.add(name);
    return cached.parsed;
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
