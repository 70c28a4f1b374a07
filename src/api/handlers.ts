// The 38 operations over the catalog: Create/Describe/Update/Delete/List for each of the seven
// kinds (one generic implementation, told apart by the kind table), and the three tag operations.
// Every write is read-validate-write: the whole candidate mesh is validated before anything is
// stored, and the store's compare-and-put catches a concurrent hand edit (then it runs again).
import { logger } from '../log';
import { StoreConflictError, type ResourceStore, type StoreEntry } from '../store/types';
import {
  catalogOf, documentOf, entryText, errorMessage, newErrors, newUid, rewriteEntry, sameRef,
  type Catalog, type CatalogItem, type StoredMetadata, type TagRef,
} from './catalog';
import { ApiError, badRequest, notFound } from './errors';
import { hasMeshdSettings, withMeshdTags, withoutMeshdTags } from './meshd-tags';
import { paginate } from './pagination';
import { usersOf } from './references';
import { apiKinds, arnOf, describeRef, kinds, parseArn, type ApiKind, type ArnContext, type ResourceRef } from './resource-kinds';

const log = logger('api');

export type ApiInput = Readonly<Record<string, unknown>>;
export type ApiOutput = Record<string, unknown>;

export interface HandlerContext {
  readonly store: ResourceStore;
  readonly arn: ArnContext;
  readonly trustDomain?: string;
  /** When this meshd started: the creation time of resources written by hand. */
  readonly startedAt: Date;
  /** How often a write is tried again after a concurrent change (default 3). */
  readonly writeAttempts?: number;
  /** Most tags on one resource (App Mesh: 50). */
  readonly maxTags?: number;
}

const verbs = ['Create', 'Describe', 'Update', 'Delete', 'List'] as const;
type Verb = (typeof verbs)[number];

function plural(kind: ApiKind): string {
  return kind === 'Mesh' ? 'Meshes' : `${kind}s`;
}

/** The verb and kind of a resource operation (`ListVirtualNodes` → List, VirtualNode). */
export function resourceOperation(name: string): { verb: Verb; kind: ApiKind } | undefined {
  for (const verb of verbs) {
    for (const kind of apiKinds) {
      if (name === `${verb}${verb === 'List' ? plural(kind) : kind}`) return { verb, kind };
    }
  }
  return undefined;
}

function timestamp(iso: string): number {
  return new Date(iso).getTime() / 1000;
}

function refFromInput(kind: ApiKind, input: ApiInput): ResourceRef {
  const info = kinds[kind];
  const meshName = String(input.meshName);
  return {
    kind,
    meshName,
    ...(info.parent ? { parentName: String(input[info.parent.nameField]) } : {}),
    name: kind === 'Mesh' ? meshName : String(input[info.nameField]),
  };
}

function names(ref: ResourceRef): Record<string, string> {
  const info = kinds[ref.kind];
  const out: Record<string, string> = { meshName: ref.meshName };
  if (info.parent && ref.parentName !== undefined) out[info.parent.nameField] = ref.parentName;
  if (ref.kind !== 'Mesh') out[info.nameField] = ref.name;
  return out;
}

/** Resource data as describe-* answers it (the server projects it onto the model's shape). */
function dataOf(context: HandlerContext, item: Pick<CatalogItem, 'ref' | 'body' | 'metadata'>, status = 'ACTIVE'): ApiOutput {
  return {
    ...names(item.ref),
    spec: item.body.spec ?? {},
    metadata: metadataOut(context, item.ref, item.metadata),
    status: { status },
  };
}

function metadataOut(context: HandlerContext, ref: ResourceRef, metadata: StoredMetadata): ApiOutput {
  return {
    arn: arnOf(context.arn, ref),
    uid: metadata.uid,
    version: metadata.version,
    createdAt: timestamp(metadata.createdAt),
    lastUpdatedAt: timestamp(metadata.lastUpdatedAt),
    meshOwner: context.arn.account,
    resourceOwner: context.arn.account,
  };
}

function storedMetadata(context: HandlerContext, ref: ResourceRef, metadata: Omit<StoredMetadata, 'arn' | 'meshOwner' | 'resourceOwner'>): StoredMetadata {
  return { arn: arnOf(context.arn, ref), ...metadata, meshOwner: context.arn.account, resourceOwner: context.arn.account };
}

export class ApiHandlers {
  private writes: Promise<unknown> = Promise.resolve();
  private cached: { stamp: string; catalog: Catalog } | undefined;

  constructor(private readonly context: HandlerContext) {}

  /** Answers one operation; `input` holds every member, from path, query and body. */
  async handle(operation: string, input: ApiInput): Promise<ApiOutput> {
    const resourceOp = resourceOperation(operation);
    if (resourceOp) {
      switch (resourceOp.verb) {
        case 'Describe': return this.describe(resourceOp.kind, input);
        case 'List': return this.list(resourceOp.kind, input);
        case 'Create': return this.serialized(() => this.create(resourceOp.kind, input));
        case 'Update': return this.serialized(() => this.update(resourceOp.kind, input));
        case 'Delete': return this.serialized(() => this.remove(resourceOp.kind, input));
      }
    }
    switch (operation) {
      case 'ListTagsForResource': return this.listTags(input);
      case 'TagResource': return this.serialized(() => this.tag(input));
      case 'UntagResource': return this.serialized(() => this.untag(input));
      default: throw new ApiError('BadRequestException', `${operation} is not an operation meshd serves`);
    }
  }

  /** The store's content as resources; parsed and validated again only when an entry changed. */
  async catalog(): Promise<Catalog> {
    const entries = await this.unavailableOnFailure(() => this.context.store.readAll(), 'cannot be read');
    const stamp = stampOf(entries);
    if (this.cached?.stamp === stamp) return this.cached.catalog;
    const catalog = catalogOf(entries, this.context.arn, this.context.startedAt, this.context.trustDomain);
    this.cached = { stamp, catalog };
    return catalog;
  }

  // Writes run one at a time inside meshd, so two API calls never read the same state to change it.
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => undefined);
    return run;
  }

  private find(catalog: Catalog, ref: ResourceRef): CatalogItem {
    const item = catalog.items.find((candidate) => sameRef(candidate.ref, ref));
    if (!item) throw notFound(`${describeRef(ref)} not found`);
    return item;
  }

  private async describe(kind: ApiKind, input: ApiInput): Promise<ApiOutput> {
    const item = this.find(await this.catalog(), refFromInput(kind, input));
    return { [kinds[kind].noun]: dataOf(this.context, item) };
  }

  private async list(kind: ApiKind, input: ApiInput): Promise<ApiOutput> {
    const catalog = await this.catalog();
    const info = kinds[kind];
    if (kind !== 'Mesh') {
      const mesh = { kind: 'Mesh' as const, meshName: String(input.meshName), name: String(input.meshName) };
      this.find(catalog, mesh);
      if (info.parent) this.find(catalog, { kind: info.parent.kind, meshName: mesh.meshName, name: String(input[info.parent.nameField]) });
    }
    const matching = catalog.items
      .filter((item) => item.ref.kind === kind
        && (kind === 'Mesh' || item.ref.meshName === input.meshName)
        && (!info.parent || item.ref.parentName === input[info.parent.nameField]))
      .sort((a, b) => (a.ref.name < b.ref.name ? -1 : a.ref.name > b.ref.name ? 1 : 0));
    const page = paginate(matching.map((item) => ({ key: item.ref.name, item })), input, 100);
    return {
      [`${info.noun === 'mesh' ? 'meshes' : `${info.noun}s`}`]: page.items.map(({ item }) => ({
        ...names(item.ref),
        ...metadataOut(this.context, item.ref, item.metadata),
      })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }

  private async create(kind: ApiKind, input: ApiInput): Promise<ApiOutput> {
    const ref = refFromInput(kind, input);
    return this.write((catalog) => {
      if (catalog.items.some((item) => sameRef(item.ref, ref))) throw new ApiError('ConflictException', `${describeRef(ref)} already exists`);
      if (kind !== 'Mesh') this.find(catalog, { kind: 'Mesh', meshName: ref.meshName, name: ref.meshName });
      const parent = kinds[kind].parent;
      if (parent) this.find(catalog, { kind: parent.kind, meshName: ref.meshName, name: ref.parentName! });
      const now = new Date().toISOString();
      const metadata = storedMetadata(this.context, ref, { uid: newUid(), version: 1, createdAt: now, lastUpdatedAt: now });
      const tags = tagList(input.tags);
      const meshd = hasMeshdSettings(kind) ? withMeshdTags(undefined, tags) : undefined;
      const body: Record<string, unknown> = {
        ...(input.spec !== undefined ? { spec: input.spec } : {}),
        ...(meshd ? { meshd } : {}),
        ...(tags.length > 0 ? { tags } : {}),
      };
      this.checkTagCount(ref, tags);
      const key = this.context.store.keyFor({ kind, meshName: ref.meshName, ...(ref.parentName !== undefined ? { parentName: ref.parentName } : {}), name: ref.name });
      if (catalog.entries.some((entry) => entry.key === key)) {
        throw new ApiError('ConflictException', `${describeRef(ref)}: the file ${key} it would be written to already exists in ${this.context.store.location}`);
      }
      return {
        key,
        text: entryText(key, documentOf(ref, body, metadata)),
        expected: undefined,
        result: { [kinds[kind].noun]: dataOf(this.context, { ref, body, metadata }) },
      };
    });
  }

  private async update(kind: ApiKind, input: ApiInput): Promise<ApiOutput> {
    const ref = refFromInput(kind, input);
    return this.write((catalog) => {
      const item = this.find(catalog, ref);
      const metadata = storedMetadata(this.context, ref, {
        uid: item.metadata.uid,
        version: item.metadata.version + 1,
        createdAt: item.metadata.createdAt,
        lastUpdatedAt: new Date().toISOString(),
      });
      const { spec: _old, ...kept } = item.body;
      const body = { ...kept, ...(input.spec !== undefined ? { spec: input.spec } : {}) };
      return this.rewrite(item, documentOf(ref, body, metadata), { [kinds[kind].noun]: dataOf(this.context, { ref, body, metadata }) });
    });
  }

  private async remove(kind: ApiKind, input: ApiInput): Promise<ApiOutput> {
    const ref = refFromInput(kind, input);
    return this.write((catalog) => {
      const item = this.find(catalog, ref);
      const users = usersOf(catalog, ref);
      if (users.length > 0) {
        const shown = users.slice(0, 5).map((user) => describeRef(user.ref)).join(', ');
        throw new ApiError('ResourceInUseException', `${describeRef(ref)} is still in use by ${shown}${users.length > 5 ? ` and ${users.length - 5} more` : ''}: delete or change those first`);
      }
      return this.rewrite(item, undefined, { [kinds[kind].noun]: dataOf(this.context, item, 'DELETED') });
    });
  }

  private async listTags(input: ApiInput): Promise<ApiOutput> {
    const item = this.find(await this.catalog(), this.refOfArn(input.resourceArn));
    const tags = item.tags.map((tag) => ({ key: tag.key, value: tag.value ?? '' }));
    const page = paginate(tags.map((tag, i) => ({ key: String(i).padStart(6, '0'), item: tag })), input, 50);
    return { tags: page.items.map(({ item: tag }) => tag), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }

  private async tag(input: ApiInput): Promise<ApiOutput> {
    const ref = this.refOfArn(input.resourceArn);
    return this.write((catalog) => {
      const item = this.find(catalog, ref);
      const merged = new Map(item.tags.map((tag) => [tag.key, tag]));
      for (const tag of tagList(input.tags)) merged.set(tag.key, tag);
      this.checkTagCount(ref, [...merged.values()]);
      const body: Record<string, unknown> = { ...item.body, tags: [...merged.values()] };
      if (hasMeshdSettings(ref.kind)) setOrDrop(body, 'meshd', withMeshdTags(item.body.meshd, tagList(input.tags)));
      return this.rewrite(item, documentOf(ref, body, item.metadata), {});
    });
  }

  private async untag(input: ApiInput): Promise<ApiOutput> {
    const ref = this.refOfArn(input.resourceArn);
    const remove = new Set(Array.isArray(input.tagKeys) ? input.tagKeys.map(String) : []);
    return this.write((catalog) => {
      const item = this.find(catalog, ref);
      const tags = item.tags.filter((tag) => !remove.has(tag.key));
      const body: Record<string, unknown> = { ...item.body, tags };
      if (hasMeshdSettings(ref.kind)) setOrDrop(body, 'meshd', withoutMeshdTags(item.body.meshd, [...remove]));
      return this.rewrite(item, documentOf(ref, body, item.metadata), {});
    });
  }

  private checkTagCount(ref: ResourceRef, tags: readonly TagRef[]): void {
    const max = this.context.maxTags ?? 50;
    if (tags.length > max) throw new ApiError('TooManyTagsException', `${describeRef(ref)}: ${tags.length} tags, at most ${max} are allowed`);
  }

  private refOfArn(value: unknown): ResourceRef {
    if (typeof value !== 'string') throw badRequest('resourceArn is required');
    const ref = parseArn(this.context.arn, value);
    if (typeof ref === 'string') throw badRequest(`resourceArn: ${ref}`);
    return ref;
  }

  private rewrite(item: CatalogItem, document: Record<string, unknown> | undefined, result: ApiOutput): PlannedWrite {
    const text = rewriteEntry(item.entry, item.index, document);
    return { key: item.entry.key, text, expected: item.entry.revision, result };
  }

  // The store failing (a directory gone or not writable) is the service being unavailable, as App
  // Mesh says when its own storage fails; the caller may retry. A concurrent change passes through.
  private async unavailableOnFailure<T>(work: () => Promise<T>, what: string): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof StoreConflictError || err instanceof ApiError) throw err;
      log.error({ store: this.context.store.location, err: (err as Error).message }, `the store ${what}`);
      throw new ApiError('ServiceUnavailableException', `the mesh store ${this.context.store.location} ${what}: ${(err as Error).message}`);
    }
  }

  /**
   * Plans a change on a fresh read, validates the candidate (the store's entries with the change),
   * stores it only if nothing else changed the entry meanwhile; runs again after a concurrent edit.
   */
  private async write(plan: (catalog: Catalog) => PlannedWrite): Promise<ApiOutput> {
    const attempts = this.context.writeAttempts ?? 3;
    for (let attempt = 1; ; attempt += 1) {
      const catalog = await this.catalog();
      const change = plan(catalog);
      const candidate: StoreEntry[] = catalog.entries.filter((entry) => entry.key !== change.key);
      // Its revision is the store's to say; it is filled in once the write is stored.
      const written = { key: change.key, text: change.text ?? '', revision: '' };
      if (change.text !== undefined) candidate.push(written);
      const candidateCatalog = catalogOf(candidate, this.context.arn, this.context.startedAt, this.context.trustDomain);
      const added = newErrors(catalog.errors, candidateCatalog.errors);
      if (added.length > 0) throw badRequest(errorMessage(added));
      try {
        await this.unavailableOnFailure(async () => {
          if (change.text === undefined) await this.context.store.delete(change.key, change.expected!);
          else written.revision = await this.context.store.compareAndPut(change.key, change.text, change.expected === undefined ? { absent: true } : { revision: change.expected });
        }, `cannot be written (${change.key})`);
        // What was validated is now the store's content: the next request need not parse it again.
        const sorted = [...candidate].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        this.cached = { stamp: stampOf(sorted), catalog: { ...candidateCatalog, entries: sorted } };
        return change.result;
      } catch (err) {
        if (!(err instanceof StoreConflictError)) throw err;
        if (attempt >= attempts) throw new ApiError('ConflictException', `${err.message}; it kept changing while this request was applied, try again`);
      }
    }
  }
}

interface PlannedWrite {
  readonly key: string;
  /** The entry's new text; undefined removes it. */
  readonly text: string | undefined;
  /** The revision it was read at; undefined when it must not exist yet. */
  readonly expected: string | undefined;
  readonly result: ApiOutput;
}

function setOrDrop(record: Record<string, unknown>, field: string, value: unknown): void {
  if (value === undefined) delete record[field];
  else record[field] = value;
}

/** Identifies a store's content by its entries' keys and revisions. */
function stampOf(entries: readonly StoreEntry[]): string {
  return entries.map((entry) => `${entry.key}\0${entry.revision}`).join('\n');
}

function tagList(value: unknown): TagRef[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((tag: unknown) => {
    if (typeof tag !== 'object' || tag === null) return [];
    const { key, value: tagValue } = tag as Record<string, unknown>;
    return typeof key === 'string' ? [{ key, ...(typeof tagValue === 'string' ? { value: tagValue } : {}) }] : [];
  });
}
