// The one way into what proxies are served: every snapshot passes the publishing checks here
// before a stream can see it, whether it goes into the cache (a node's snapshot) or is served
// beside it (a per-proxy variant). The checks: the snapshot is consistent (every route
// configuration and cluster load assignment it refers to is in it, else Envoy would warm forever)
// and every resource passes Envoy's own field constraints (protoc-gen-validate), else Envoy would
// NACK it. A batch is all or nothing: one bad snapshot refuses the whole change.
import { formatPgvViolations, validateResource } from '../xds/pgv';
import { shortTypeName } from '../xds/type-urls';
import type { EncodedResource } from './resource';
import type { Snapshot } from './snapshot';
import type { ConfigWatcher, SnapshotCache, SnapshotListener } from './snapshot-cache';

/** A snapshot (or a batch) that failed the checks; `problems` says which resource and why. */
export class PublishRefusedError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`refused to publish: Envoy would reject or never finish warming this configuration (a meshd bug; nothing was published):\n${problems.join('\n')}`);
  }
}

export class SnapshotPublisher implements ConfigWatcher {
  /**
   * PGV results per encoded resource. Resources are shared between snapshots (a translation
   * reuses what did not change), so each is checked once.
   */
  private readonly checked = new WeakMap<EncodedResource, string | null>();

  constructor(private readonly cache: SnapshotCache) {}

  /** Publishes a batch of node snapshots, all or nothing; throws PublishRefusedError. */
  publish(snapshots: Iterable<readonly [string, Snapshot]>): void {
    const batch = [...snapshots];
    const problems = batch.flatMap(([key, snapshot]) => this.problemsOf(key, snapshot));
    if (problems.length > 0) throw new PublishRefusedError(problems);
    for (const [key, snapshot] of batch) this.cache.setSnapshot(key, snapshot);
  }

  /** Checks a snapshot served outside the cache (a per-proxy variant); throws PublishRefusedError. */
  check(key: string, snapshot: Snapshot): Snapshot {
    const problems = this.problemsOf(key, snapshot);
    if (problems.length > 0) throw new PublishRefusedError(problems);
    return snapshot;
  }

  /** New connections for this node get nothing; connected proxies keep what they have. */
  clear(key: string): void {
    this.cache.clearSnapshot(key);
  }

  watch(key: string, listener: SnapshotListener): () => void {
    return this.cache.watch(key, listener);
  }

  getSnapshot(key: string): Snapshot | undefined {
    return this.cache.getSnapshot(key);
  }

  private problemsOf(key: string, snapshot: Snapshot): string[] {
    const problems = snapshot.consistencyErrors().map((error) => `${key}: ${error}`);
    for (const typeUrl of snapshot.typeUrls()) {
      for (const resource of snapshot.get(typeUrl)!.resources.values()) {
        const violation = this.violationOf(resource);
        if (violation) problems.push(`${key}: ${shortTypeName(typeUrl)} ${resource.name}: ${violation}`);
      }
    }
    return problems;
  }

  private violationOf(resource: EncodedResource): string | null {
    let result = this.checked.get(resource);
    if (result === undefined) {
      const violations = validateResource(resource.typeUrl, resource.value);
      result = violations.length > 0 ? formatPgvViolations(violations) : null;
      this.checked.set(resource, result);
    }
    return result;
  }
}
