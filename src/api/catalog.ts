// What the store holds, seen as App Mesh resources: each valid resource with the entry and document
// it lives in, its App Mesh metadata (kept in the document in `describe-*` output form, which the
// spec parser accepts as-is) and its tags. Also how a changed set of entries is validated: with
// the same parsing and model building as the spec directory, so an API write is refused exactly
// when the same edit made by hand would be.
import { randomUUID, createHash } from 'node:crypto';
import { parseAllDocuments, stringify, type Document } from 'yaml';
import { buildModel } from '../model/build';
import { formatError, type SpecError } from '../spec/errors';
import { parseSpecText } from '../spec/parse';
import { nameOf, type Resource } from '../spec/resource-schema';
import type { DeclaredResource } from '../spec/parse';
import type { StoreEntry } from '../store/types';
import { badRequest } from './errors';
import { arnOf, isApiKind, kinds, type ArnContext, type ResourceRef } from './resource-kinds';

/** App Mesh's metadata, as kept in a document (timestamps as ISO text, readable in a diff). */
export interface StoredMetadata {
  readonly arn?: string;
  readonly uid: string;
  readonly version: number;
  readonly createdAt: string;
  readonly lastUpdatedAt: string;
  readonly meshOwner?: string;
  readonly resourceOwner?: string;
}

export interface TagRef {
  readonly key: string;
  readonly value?: string;
}

/** One resource the API can see. */
export interface CatalogItem {
  readonly ref: ResourceRef;
  readonly resource: Resource;
  /** The document's own fields (names, spec, meshd settings, tags), without kind, metadata, status. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly metadata: StoredMetadata;
  readonly tags: readonly TagRef[];
  readonly entry: StoreEntry;
  /** Its place among the entry's documents (as `Resource.source.index` counts them). */
  readonly index: number;
}

export interface Catalog {
  readonly entries: readonly StoreEntry[];
  readonly items: readonly CatalogItem[];
  /** What is wrong with the store's content now (a write may not add to it). */
  readonly errors: readonly SpecError[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isJson(key: string): boolean {
  return key.toLowerCase().endsWith('.json');
}

/** An entry's documents, flattened and counted the way the spec parser counts them. */
export function rawDocuments(entry: StoreEntry): unknown[] {
  if (isJson(entry.key)) {
    try {
      const value: unknown = JSON.parse(entry.text);
      return Array.isArray(value) ? value : [value];
    } catch {
      return [];
    }
  }
  const out: unknown[] = [];
  for (const document of parseAllDocuments(entry.text)) {
    if (document.errors.length > 0) {
      out.push(undefined);
      continue;
    }
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    if (Array.isArray(value)) out.push(...(value as unknown[]));
    else out.push(value);
  }
  return out;
}

// The document's own fields and, in describe-* form, the metadata beside them.
function unwrap(raw: unknown, noun: string): { body: Record<string, unknown>; metadata?: Record<string, unknown> } {
  if (!isRecord(raw)) return { body: {} };
  const keys = Object.keys(raw);
  if (keys.length === 1 && keys[0] === noun && isRecord(raw[noun])) {
    const { metadata, status: _status, kind: _kind, ...body } = raw[noun] as Record<string, unknown>;
    return { body, ...(isRecord(metadata) ? { metadata } : {}) };
  }
  const { kind: _kind, ...body } = raw;
  return { body };
}

function refOf(resource: Resource): ResourceRef | undefined {
  if (!isApiKind(resource.kind)) return undefined;
  const parent = kinds[resource.kind].parent;
  const record = resource as unknown as Record<string, unknown>;
  return {
    kind: resource.kind,
    meshName: resource.meshName,
    ...(parent ? { parentName: String(record[parent.nameField]) } : {}),
    name: nameOf(resource),
  };
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return new Date(value * 1000).toISOString();
  return undefined;
}

// A resource written by hand has no metadata: it is version 1, created when this meshd started,
// with a uid derived from its ARN so that it is the same on every read.
function metadataOf(stored: Record<string, unknown> | undefined, ref: ResourceRef, context: ArnContext, since: Date): StoredMetadata {
  const uid = typeof stored?.uid === 'string' ? stored.uid : uidFrom(arnOf(context, ref));
  const version = typeof stored?.version === 'number' && Number.isInteger(stored.version) ? stored.version : 1;
  const createdAt = text(stored?.createdAt) ?? since.toISOString();
  return { uid, version, createdAt, lastUpdatedAt: text(stored?.lastUpdatedAt) ?? createdAt };
}

function uidFrom(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A fresh uid for a created resource. */
export const newUid = (): string => randomUUID();

function tagsOf(body: Record<string, unknown>): TagRef[] {
  const tags = body.tags;
  if (!Array.isArray(tags)) return [];
  return tags.filter(isRecord).flatMap((tag) => (typeof tag.key === 'string' ? [{ key: tag.key, ...(typeof tag.value === 'string' ? { value: tag.value } : {}) }] : []));
}

/** Validates a set of entries as the spec directory would be: every error, parse and model. */
export function validateEntries(entries: readonly StoreEntry[], trustDomain?: string): { resources: Resource[]; errors: SpecError[] } {
  const resources: Resource[] = [];
  const invalid: DeclaredResource[] = [];
  const errors: SpecError[] = [];
  for (const entry of entries) {
    const parsed = parseSpecText(entry.key, entry.text);
    resources.push(...parsed.resources);
    invalid.push(...parsed.invalid);
    errors.push(...parsed.errors);
  }
  const built = buildModel(resources, { invalid, ...(trustDomain ? { trustDomain } : {}) });
  if (!built.ok) errors.push(...built.errors);
  return { resources, errors };
}

/** Reads the entries as App Mesh resources. */
export function catalogOf(entries: readonly StoreEntry[], context: ArnContext, since: Date, trustDomain?: string): Catalog {
  const { resources, errors } = validateEntries(entries, trustDomain);
  const byKey = new Map(entries.map((entry) => [entry.key, entry]));
  const documents = new Map<string, unknown[]>();
  const items: CatalogItem[] = [];
  for (const resource of resources) {
    const ref = refOf(resource);
    const entry = byKey.get(resource.source.file);
    if (!ref || !entry) continue;
    let raw = documents.get(entry.key);
    if (!raw) documents.set(entry.key, raw = rawDocuments(entry));
    const { body, metadata } = unwrap(raw[resource.source.index], kinds[ref.kind].noun);
    items.push({ ref, resource, body, metadata: metadataOf(metadata, ref, context, since), tags: tagsOf(body), entry, index: resource.source.index });
  }
  return { entries, items, errors };
}

/** Same resource? */
export function sameRef(a: ResourceRef, b: ResourceRef): boolean {
  return a.kind === b.kind && a.meshName === b.meshName && a.name === b.name && (a.parentName ?? '') === (b.parentName ?? '');
}

/** The document written for a resource: `describe-*` output form, which spec files accept. */
export function documentOf(ref: ResourceRef, body: Record<string, unknown>, metadata: StoredMetadata): Record<string, unknown> {
  const info = kinds[ref.kind];
  const { meshName: _m, spec, tags, ...extras } = body;
  const names: Record<string, unknown> = { meshName: ref.meshName };
  if (info.parent) names[info.parent.nameField] = ref.parentName;
  if (ref.kind !== 'Mesh') names[info.nameField] = ref.name;
  for (const field of Object.keys(names)) delete extras[field];
  return {
    [info.noun]: {
      ...names,
      ...(spec !== undefined ? { spec } : {}),
      ...extras,
      ...(Array.isArray(tags) && tags.length > 0 ? { tags } : {}),
      metadata,
      status: { status: 'ACTIVE' },
    },
  };
}

/** The text of a new entry holding one document. */
export function entryText(key: string, document: Record<string, unknown>): string {
  return isJson(key) ? `${JSON.stringify(document, null, 2)}\n` : stringify(document);
}

/**
 * The entry's text with document `index` replaced (or removed when `replacement` is undefined);
 * undefined when nothing would be left. Other documents of a YAML file keep their text and comments.
 */
export function rewriteEntry(entry: StoreEntry, index: number, replacement: Record<string, unknown> | undefined): string | undefined {
  if (isJson(entry.key)) {
    const value: unknown = JSON.parse(entry.text);
    if (!Array.isArray(value)) return replacement ? entryText(entry.key, replacement) : undefined;
    const next = [...(value as unknown[])];
    if (replacement) next[index] = replacement;
    else next.splice(index, 1);
    return next.length > 0 ? `${JSON.stringify(next, null, 2)}\n` : undefined;
  }
  // Parsed documents, edited in place: their contents become plain (unparsed) nodes.
  const documents = parseAllDocuments(entry.text) as unknown as Document[];
  // A document with a syntax error cannot be written back as it was: the file is the user's to fix.
  if (documents.some((document) => document.errors.length > 0)) {
    throw badRequest(`${entry.key}: has a YAML syntax error; fix the file before changing its resources through the API`);
  }
  let first = 0;
  for (let d = 0; d < documents.length; d += 1) {
    const document = documents[d]!;
    const value: unknown = document.errors.length > 0 ? undefined : document.toJS({ maxAliasCount: 100 });
    const count = Array.isArray(value) ? value.length : 1;
    if (index >= first + count) {
      first += count;
      continue;
    }
    if (Array.isArray(value)) {
      const next = [...(value as unknown[])];
      if (replacement) next[index - first] = replacement;
      else next.splice(index - first, 1);
      if (next.length > 0) document.contents = document.createNode(next);
      else documents.splice(d, 1);
    } else if (replacement) {
      document.contents = document.createNode(replacement);
    } else {
      documents.splice(d, 1);
    }
    break;
  }
  const remaining = documents.filter((document) => document.contents !== null);
  if (remaining.length === 0) return undefined;
  return documents.map((document, i) => {
    const out = document.toString();
    // A document after the first needs its `---`, even if the one that carried it was removed.
    return i > 0 && !out.startsWith('---') ? `---\n${out}` : out;
  }).join('');
}

/** One line per error, for a BadRequestException's message. */
export function errorMessage(errors: readonly SpecError[]): string {
  const shown = errors.slice(0, 10).map(formatError);
  return shown.join('; ') + (errors.length > shown.length ? `; and ${errors.length - shown.length} more` : '');
}

// Errors the candidate has that the store's current content does not (a hand edit may already have
// broken something; an API write is refused only for what it would break itself).
export function newErrors(before: readonly SpecError[], after: readonly SpecError[]): SpecError[] {
  const known = new Map<string, number>();
  for (const error of before) known.set(formatError(error), (known.get(formatError(error)) ?? 0) + 1);
  return after.filter((error) => {
    const count = known.get(formatError(error)) ?? 0;
    if (count > 0) {
      known.set(formatError(error), count - 1);
      return false;
    }
    return true;
  });
}
