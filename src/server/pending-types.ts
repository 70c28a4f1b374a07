// The types a stream has yet to push, each with whether the push is forced (a fresh
// subscription or a resend). Every push of every stream marks and takes entries here, and every
// stream holds one, so it is one short array of the types seen (a stream serves at most a
// handful) and two bit sets indexed by it: no allocation once a type has been seen, and a few
// dozen bytes per stream where a Map costs some two hundred.
const MAX_TYPES = 30; // bits of a small integer

export class PendingTypes {
  /** Every type marked so far, in the order first marked. */
  private readonly typeUrls: string[] = [];
  /** Bit i: typeUrls[i] is pending. */
  private pending = 0;
  /** Bit i: typeUrls[i]'s push is forced. */
  private forced = 0;

  get size(): number {
    let count = 0;
    for (let bits = this.pending; bits !== 0; bits &= bits - 1) count++;
    return count;
  }

  has(typeUrl: string): boolean {
    const index = this.typeUrls.indexOf(typeUrl);
    return index >= 0 && (this.pending & (1 << index)) !== 0;
  }

  /** Marks a type pending; a forced mark stays forced until taken. */
  mark(typeUrl: string, force: boolean): void {
    let index = this.typeUrls.indexOf(typeUrl);
    if (index < 0) {
      if (this.typeUrls.length >= MAX_TYPES) throw new Error(`a stream cannot have more than ${MAX_TYPES} types pending (${typeUrl})`);
      index = this.typeUrls.push(typeUrl) - 1;
    }
    const bit = 1 << index;
    this.pending |= bit;
    if (force) this.forced |= bit;
  }

  /** Unmarks a type; returns whether its push was forced (undefined: it was not pending). */
  take(typeUrl: string): boolean | undefined {
    const index = this.typeUrls.indexOf(typeUrl);
    const bit = index >= 0 ? 1 << index : 0;
    if ((this.pending & bit) === 0) return undefined;
    const forced = (this.forced & bit) !== 0;
    this.pending &= ~bit;
    this.forced &= ~bit;
    return forced;
  }

  /** The first pending type in the order types were first marked. */
  first(): string | undefined {
    if (this.pending === 0) return undefined;
    return this.typeUrls[31 - Math.clz32(this.pending & -this.pending)];
  }

  clear(): void {
    this.typeUrls.length = 0;
    this.pending = 0;
    this.forced = 0;
  }
}
