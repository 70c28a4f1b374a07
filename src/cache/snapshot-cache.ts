// Snapshots per node key, and the one narrow interface the protocol servers use: watch a node's
// snapshot and be told when it changes. The cache knows nothing of gRPC streams.
import { Snapshot } from './snapshot';

export type SnapshotListener = (snapshot: Snapshot) => void;

export interface ConfigWatcher {
  /**
   * Calls `listener` now if the node has a snapshot, then on every change. Returns a function
   * that cancels the watch.
   */
  watch(nodeKey: string, listener: SnapshotListener): () => void;
}

export class SnapshotInconsistentError extends Error {}

export class SnapshotCache implements ConfigWatcher {
  private readonly snapshots = new Map<string, Snapshot>();
  /**
   * Per node key, its watchers: an array replaced (never mutated) when one comes or goes, so a
   * notification iterates whatever it finds and a watcher may cancel itself meanwhile. Nearly
   * every key has one watcher, and a one-element array is a fraction of a Set's size.
   */
  private readonly listeners = new Map<string, readonly SnapshotListener[]>();

  /**
   * Publishes a node's snapshot and notifies its watchers. An inconsistent snapshot (a listener
   * naming a missing route configuration, a cluster without its endpoints) is refused.
   */
  setSnapshot(nodeKey: string, snapshot: Snapshot): void {
    const errors = snapshot.consistencyErrors();
    if (errors.length > 0) throw new SnapshotInconsistentError(`snapshot for ${nodeKey} is inconsistent: ${errors.join('; ')}`);
    if (this.snapshots.get(nodeKey) === snapshot) return;
    this.snapshots.set(nodeKey, snapshot);
    const listeners = this.listeners.get(nodeKey);
    if (listeners) for (const listener of listeners) listener(snapshot);
  }

  getSnapshot(nodeKey: string): Snapshot | undefined {
    return this.snapshots.get(nodeKey);
  }

  clearSnapshot(nodeKey: string): void {
    this.snapshots.delete(nodeKey);
  }

  nodeKeys(): string[] {
    return [...this.snapshots.keys()];
  }

  watch(nodeKey: string, listener: SnapshotListener): () => void {
    const watchers = this.listeners.get(nodeKey) ?? [];
    if (!watchers.includes(listener)) this.listeners.set(nodeKey, [...watchers, listener]);
    const current = this.snapshots.get(nodeKey);
    if (current) listener(current);
    return () => {
      const remaining = this.listeners.get(nodeKey)?.filter((watcher) => watcher !== listener);
      if (remaining === undefined) return;
      if (remaining.length === 0) this.listeners.delete(nodeKey);
      else this.listeners.set(nodeKey, remaining);
    };
  }
}
