// The types a stream has yet to push, each with whether the push is forced (a fresh
// subscription or a resend). Every push of every stream marks and takes entries here, so entries
// are cleared rather than deleted: a Map that loses its last entry shrinks and reallocates its
// table on the next insert, which at 10,000 streams was a measurable share of a push's garbage.
export class PendingTypes {
  /** undefined: not pending; false/true: pending, not forced/forced. */
  private readonly forced = new Map<string, boolean | undefined>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(typeUrl: string): boolean {
    return this.forced.get(typeUrl) !== undefined;
  }

  /** Marks a type pending; a forced mark stays forced until taken. */
  mark(typeUrl: string, force: boolean): void {
    const current = this.forced.get(typeUrl);
    if (current === undefined) this.count++;
    if (current !== true) this.forced.set(typeUrl, force);
  }

  /** Unmarks a type; returns whether its push was forced (undefined: it was not pending). */
  take(typeUrl: string): boolean | undefined {
    const current = this.forced.get(typeUrl);
    if (current === undefined) return undefined;
    this.forced.set(typeUrl, undefined);
    this.count--;
    return current;
  }

  /** The first pending type in the order types were first marked. */
  first(): string | undefined {
    if (this.count === 0) return undefined;
    for (const [typeUrl, force] of this.forced) if (force !== undefined) return typeUrl;
    return undefined;
  }

  clear(): void {
    this.forced.clear();
    this.count = 0;
  }
}
