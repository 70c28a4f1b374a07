// The types a stream has yet to push, each with whether the push is forced (a fresh
// subscription or a resend). Every push of every stream marks and takes entries here, and every
// stream holds one, so it is two short arrays (a stream serves at most a handful of types) whose
// entries are cleared rather than removed: no allocation once a type has been seen, and a few
// dozen bytes per stream where a Map costs some two hundred.
export class PendingTypes {
  /** Every type marked so far, in the order first marked. */
  private readonly typeUrls: string[] = [];
  /** Per type, in step with typeUrls: undefined when not pending, else whether forced. */
  private readonly forced: (boolean | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(typeUrl: string): boolean {
    return this.forced[this.typeUrls.indexOf(typeUrl)] !== undefined;
  }

  /** Marks a type pending; a forced mark stays forced until taken. */
  mark(typeUrl: string, force: boolean): void {
    let index = this.typeUrls.indexOf(typeUrl);
    if (index < 0) index = this.typeUrls.push(typeUrl) - 1;
    const current = this.forced[index];
    if (current === undefined) this.count++;
    if (current !== true) this.forced[index] = force;
  }

  /** Unmarks a type; returns whether its push was forced (undefined: it was not pending). */
  take(typeUrl: string): boolean | undefined {
    const index = this.typeUrls.indexOf(typeUrl);
    const current = this.forced[index];
    if (current === undefined) return undefined;
    this.forced[index] = undefined;
    this.count--;
    return current;
  }

  /** The first pending type in the order types were first marked. */
  first(): string | undefined {
    if (this.count === 0) return undefined;
    for (let i = 0; i < this.typeUrls.length; i++) if (this.forced[i] !== undefined) return this.typeUrls[i];
    return undefined;
  }

  clear(): void {
    this.typeUrls.length = 0;
    this.forced.length = 0;
    this.count = 0;
  }
}
