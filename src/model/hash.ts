// Content hashing and freezing for the model: an endpoint's hash is sha256 over a canonical
// (key-sorted) JSON of its translation inputs, so equal inputs give equal hashes whatever the
// order in which the model was assembled.
import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level; undefined members are left out. Written with
 * plain loops and string appends: it runs over every endpoint's inputs on each model build, and
 * the intermediate arrays of a map/filter/join version were most of its cost.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let json = '[';
    for (let i = 0; i < value.length; i++) json += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${json}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let json = '{';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    json += `${json.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `${json}}`;
}

/** Hex sha256 of the canonical JSON of `value`. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** Freeze an object graph in place and return it typed as read-only. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
