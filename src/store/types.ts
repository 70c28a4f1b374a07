// The one narrow seam between whatever keeps mesh specs and what reads or changes them (the
// watcher, the App Mesh API): read everything, watch for changes, compare-and-put, delete. An
// entry is a key holding the text of one or more resource documents (YAML or JSON, by the key's
// extension) and a revision that changes whenever its text does. The spec directory is the first
// implementation (a key is a file name); a distributed store implements the same four calls.

/** One stored entry: a file in the directory store. */
export interface StoreEntry {
  /** Stable key, e.g. `colorapp.virtualNode.front.json`; its extension says YAML or JSON. */
  readonly key: string;
  readonly text: string;
  /** Changes whenever the text does; what compare-and-put and delete compare against. */
  readonly revision: string;
}

/** Names one App Mesh resource, for the key a new entry for it gets. */
export interface ResourceIdentity {
  /** The spec kind: `Mesh`, `VirtualNode`, `Route`, ... */
  readonly kind: string;
  readonly meshName: string;
  /** The router of a Route, the gateway of a GatewayRoute. */
  readonly parentName?: string;
  readonly name: string;
}

/** The expected state for compare-and-put: a revision, or absent. */
export type ExpectedRevision = { readonly revision: string } | { readonly absent: true };

export interface ResourceStore {
  /** Every entry, ordered by key. */
  readAll(): Promise<StoreEntry[]>;
  /**
   * Calls `onChange` (debounced) after entries change, by anyone; resolves the returned close.
   * A store reached over the network also calls `onConnection` with why it is down when the watch
   * loses the store, and with undefined when it is back (then `onChange` follows, since changes
   * may have been missed).
   */
  watch(onChange: () => void, onConnection?: (down: string | undefined) => void): Promise<() => Promise<void>>;
  /** Writes `text` under `key` only if the entry is as expected; returns the new revision. */
  compareAndPut(key: string, text: string, expected: ExpectedRevision): Promise<string>;
  /** Removes `key` only if its revision is `revision`. */
  delete(key: string, revision: string): Promise<void>;
  /** The stable key a new entry for this resource gets. */
  keyFor(resource: ResourceIdentity): string;
  /** Where this store keeps its entries (for messages), e.g. the directory. */
  readonly location: string;
}

/** The entry changed since it was read (or exists when it should not, or is gone). */
export class StoreConflictError extends Error {
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = 'StoreConflictError';
  }
}
