// A snapshot is what one node is served: per type URL, a set of encoded resources with a version
// derived from their content. It is immutable once built; the cache swaps whole snapshots.
import { contentVersion, EncodedResource, encodeResources } from './resource';
import { lengthDelimitedField, sotwBody, SotwField, sotwParts } from '../xds/wire';
import { MessageParts, type OutgoingMessage } from '../xds/message-parts';
import { nextNonce } from '../xds/nonce';
import { shortTypeName } from '../xds/type-urls';

/** How many distinct name subsets of one resource set keep a pre-built response body. */
const BODY_MEMO_LIMIT = 256;

export class ResourceSet {
  readonly version: string;
  readonly resources: ReadonlyMap<string, EncodedResource>;
  // Memos, each created on first use: a node's SDS set (one per endpoint, 10,000 of them) uses
  // one or two of them, and five empty maps each were megabytes.
  private bodies: Map<string, Buffer> | undefined;
  private responses: Map<string, SotwResponse> | undefined;
  /**
   * A response asked for once so far, held weakly: most SDS sets belong to one proxy, which needs
   * its response once (10,000 endpoints held ~19 MB of responses already written). A second ask
   * while it is still alive (other proxies of the node, or every node sharing an xDS snapshot)
   * keeps it for good; within one synchronous fan-out it is always still alive.
   */
  private firstResponse: { key: string; response: WeakRef<SotwResponse> } | undefined;
  private selectionVersions: Map<string, string> | undefined;
  private referencedNames: Map<string, readonly string[]> | undefined;
  /** Memo of dependenciesChangedSince, per earlier set (every stream compares the same pair). */
  private changedDependencies: WeakMap<ResourceSet, readonly string[]> | undefined;

  constructor(readonly typeUrl: string, resources: Iterable<EncodedResource>) {
    const sorted = sortedByName(resources);
    const byName = new Map<string, EncodedResource>();
    for (const resource of sorted) {
      if (byName.has(resource.name)) throw new Error(`${shortTypeName(typeUrl)}: two resources are named "${resource.name}"`);
      byName.set(resource.name, resource);
    }
    this.resources = byName;
    this.version = versionOf(sorted);
  }

  /**
   * The version of what a subscription receives: the whole set for a wildcard (names = null),
   * else only the named resources that exist. A stream subscribed to some names is told of a
   * new version only when those resources change, not when others in the set do (xDS: "only send
   * updates when the resources in the DiscoveryResponse have changed"). `names` must be sorted
   * and unique; a selection that covers the whole set has the set's version.
   */
  versionFor(names: readonly string[] | null, namesKey: string = selectionKey(names)): string {
    if (names === null) return this.version;
    const memo = (this.selectionVersions ??= new Map());
    let version = memo.get(namesKey);
    if (version === undefined) {
      version = versionOf(this.select(names));
      if (memo.size >= BODY_MEMO_LIMIT) memo.clear();
      memo.set(namesKey, version);
    }
    return version;
  }

  /**
   * Every `dependencyType` name that resources of this set refer to, sorted: of all of them
   * (selection = null, memoized) or of the named ones.
   */
  dependencyNames(dependencyType: string, selection: readonly string[] | null = null): readonly string[] {
    if (selection !== null) return referencedBy(this.select(selection), dependencyType);
    const memo = (this.referencedNames ??= new Map());
    let names = memo.get(dependencyType);
    if (!names) {
      names = referencedBy([...this.resources.values()], dependencyType);
      memo.set(dependencyType, names);
    }
    return names;
  }

  /**
   * The names of `dependencyType` resources that resources of this set added or changed since
   * `previous` depend on: after a Cluster update, the ClusterLoadAssignments it uses.
   */
  dependenciesChangedSince(previous: ResourceSet, dependencyType: string): readonly string[] {
    const memo = (this.changedDependencies ??= new WeakMap());
    let names = memo.get(previous);
    if (!names) {
      const found = new Set<string>();
      for (const resource of this.resources.values()) {
        if (previous.resources.get(resource.name)?.version === resource.version) continue;
        for (const ref of resource.dependsOn) if (ref.typeUrl === dependencyType) found.add(ref.name);
      }
      names = [...found].sort();
      memo.set(previous, names);
    }
    return names;
  }

  /**
   * The shared part of a state-of-the-world response: every resource (names = null) or those of
   * the given names that exist. Built once per distinct subset and reused by every stream.
   */
  sotwBody(names: readonly string[] | null, namesKey: string): Buffer {
    const key = names === null ? '*' : namesKey;
    const memo = (this.bodies ??= new Map());
    let body = memo.get(key);
    if (!body) {
      body = sotwBody(this.versionFor(names, key), this.typeUrl, this.select(names).map((r) => r.sotwField));
      if (memo.size >= BODY_MEMO_LIMIT) memo.clear();
      memo.set(key, body);
    }
    return body;
  }

  /**
   * A complete response (nonce included) for the same selection, built once and written as-is
   * to every stream that receives it.
   */
  sotwResponse(names: readonly string[] | null, namesKey: string): SotwResponse {
    const key = names === null ? '*' : namesKey;
    const kept = this.responses?.get(key);
    if (kept) return kept;
    const first = this.firstResponse?.key === key ? this.firstResponse.response.deref() : undefined;
    if (first) {
      // Asked for again: joined once into memory of its own and shared from now on.
      const shared = { message: first.message instanceof MessageParts ? first.message.join() : first.message, nonce: first.nonce };
      const memo = (this.responses ??= new Map());
      if (memo.size >= BODY_MEMO_LIMIT) memo.clear();
      memo.set(key, shared);
      this.firstResponse = undefined;
      return shared;
    }
    const nonce = nextNonce();
    const nonceField = lengthDelimitedField(SotwField.nonce, nonce);
    // Reuse a body built earlier (Fetch, resends). Either way the parts are joined only as they
    // are written, unless a second stream asks for the same response.
    const body = this.bodies?.get(key);
    const message = body
      ? new MessageParts([body, nonceField])
      : sotwParts(this.versionFor(names, key), this.typeUrl, this.select(names).map((r) => r.sotwField), nonceField);
    const response = { message, nonce };
    this.firstResponse = { key, response: new WeakRef(response) };
    return response;
  }

  private select(names: readonly string[] | null): EncodedResource[] {
    return names === null ? [...this.resources.values()] : names.flatMap((n) => this.resources.get(n) ?? []);
  }

}

/**
 * The resources in name order. Most sets are small (an SDS node's holds four secrets): those are
 * sorted by insertion into a copy, which allocates nothing more, where Array.prototype.sort
 * allocated work space for every one of 10,000 nodes' sets at each rotation.
 */
function sortedByName(resources: Iterable<EncodedResource>): EncodedResource[] {
  const list = [...resources];
  if (list.length > 16) return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < list.length; i++) {
    const resource = list[i]!;
    let j = i - 1;
    for (; j >= 0 && list[j]!.name > resource.name; j--) list[j + 1] = list[j]!;
    list[j + 1] = resource;
  }
  return list;
}

/** A complete state-of-the-world response and the nonce in it. */
export interface SotwResponse {
  readonly message: OutgoingMessage;
  readonly nonce: string;
}

/** The memo key of a selection of names (sorted, unique), or `*` for everything. */
export function selectionKey(names: readonly string[] | null): string {
  return names === null ? '*' : names.join('\u0000');
}

function referencedBy(resources: readonly EncodedResource[], dependencyType: string): string[] {
  const found = new Set<string>();
  for (const resource of resources) for (const ref of resource.dependsOn) if (ref.typeUrl === dependencyType) found.add(ref.name);
  return [...found].sort();
}

function versionOf(resources: readonly EncodedResource[]): string {
  return contentVersion(resources.map((r) => `${r.name}\u0000${r.version}`).join('\u0001'));
}

export interface ResourceInput {
  name: string;
  /** protobufjs-shaped message object (camelCase fields). */
  message: object;
}

export class Snapshot {
  private readonly sets: ReadonlyMap<string, ResourceSet>;
  private consistency: string[] | undefined;

  constructor(sets: Iterable<ResourceSet>) {
    const byType = new Map<string, ResourceSet>();
    for (const set of sets) byType.set(set.typeUrl, set);
    this.sets = byType;
  }

  /** Encodes plain resource objects, per type URL (all of them into one allocation: `encodeResources`). */
  static fromResources(input: Readonly<Record<string, readonly ResourceInput[]>>): Snapshot {
    const entries = Object.entries(input);
    const encoded = encodeResources(entries.flatMap(([typeUrl, resources]) => resources.map((r) => ({ typeUrl, name: r.name, message: r.message }))));
    let next = 0;
    return new Snapshot(entries.map(([typeUrl, resources]) => new ResourceSet(typeUrl, encoded.slice(next, next += resources.length))));
  }

  get(typeUrl: string): ResourceSet | undefined {
    return this.sets.get(typeUrl);
  }

  typeUrls(): string[] {
    return [...this.sets.keys()];
  }

  /** A copy with one type's set replaced (or added). */
  with(set: ResourceSet): Snapshot {
    return new Snapshot([...[...this.sets.values()].filter((s) => s.typeUrl !== set.typeUrl), set]);
  }

  /**
   * Every resource a listener or cluster points at exists in this snapshot. A snapshot with
   * dangling references would leave Envoy warming forever, so the cache refuses it.
   */
  consistencyErrors(): string[] {
    this.consistency ??= this.findDanglingReferences();
    return this.consistency;
  }

  private findDanglingReferences(): string[] {
    const errors: string[] = [];
    for (const set of this.sets.values()) {
      for (const resource of set.resources.values()) {
        for (const ref of resource.dependsOn) {
          if (!this.sets.get(ref.typeUrl)?.resources.has(ref.name)) {
            errors.push(`${shortTypeName(set.typeUrl)} ${resource.name} refers to ${shortTypeName(ref.typeUrl)} ${ref.name}, which the snapshot does not have`);
          }
        }
      }
    }
    return errors;
  }
}
