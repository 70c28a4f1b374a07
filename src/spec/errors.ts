// Spec errors: every problem names the file, the resource and the field path, and all of them are
// collected before anything is reported. Zod issues are turned into messages meant for operators.
import type { z } from 'zod';
import { orList } from './common-schema';

/** One problem found in the mesh specs. */
export interface SpecError {
  /** File name relative to the spec directory, e.g. `nodes.yaml`. */
  readonly file: string;
  /** 1-based line, for syntax errors. */
  readonly line?: number;
  /** 1-based column, for syntax errors. */
  readonly column?: number;
  /** The resource, e.g. `VirtualNode colorteller` (or `document 2` when it cannot be named). */
  readonly resource?: string;
  /** Field path inside the resource, e.g. `spec.listeners[0].tls.mode`. */
  readonly path?: string;
  /** What is wrong, e.g. `must be STRICT, PERMISSIVE or DISABLED`. */
  readonly message: string;
}

/** `nodes.yaml: VirtualNode colorteller: spec.listeners[0].tls.mode: must be STRICT, PERMISSIVE or DISABLED`. */
export function formatError(error: SpecError): string {
  let where = error.file;
  if (error.line !== undefined) where += `:${error.line}`;
  if (error.line !== undefined && error.column !== undefined) where += `:${error.column}`;
  const parts = [where];
  if (error.resource) parts.push(error.resource);
  if (error.path) parts.push(error.path);
  parts.push(error.message);
  return parts.join(': ');
}

/** One line per error, in the order given. */
export function formatErrors(errors: readonly SpecError[]): string {
  return errors.map(formatError).join('\n');
}

/** Sort errors by file, then document order as found, keeping the relative order otherwise. */
export function sortErrors(errors: readonly SpecError[]): SpecError[] {
  return errors
    .map((error, order) => ({ error, order }))
    .sort((a, b) => (a.error.file < b.error.file ? -1 : a.error.file > b.error.file ? 1 : a.order - b.order))
    .map(({ error }) => error);
}

/** `['spec', 'listeners', 0, 'tls']` → `spec.listeners[0].tls`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 60 ? value.slice(0, 57) + '...' : value}"`;
  return String(value);
}

const expectedNames: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

function quoteIfString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * One zod issue as errors relative to the resource: a path and a message. An unrecognized-keys
 * issue yields one error per unknown field, each with the field in its path.
 */
export function issueMessages(issue: z.core.$ZodIssue): { path: string; message: string }[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown field' }));
    case 'invalid_type':
      if (issue.input === undefined) return [{ path, message: 'is required' }];
      return [{ path, message: `must be ${expectedNames[issue.expected] ?? issue.expected}, not ${describeValue(issue.input)}` }];
    case 'invalid_value':
      if (issue.input === undefined) return [{ path, message: 'is required' }];
      return [{ path, message: `must be ${orList(issue.values.map(quoteIfString))}` }];
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array') return [{ path, message: `must have at least ${min} item${min === 1 ? '' : 's'}` }];
      if (issue.origin === 'string') return [{ path, message: min === 1 ? 'must not be empty' : `must be at least ${min} characters` }];
      return [{ path, message: `must be at least ${min}` }];
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array') return [{ path, message: `must have at most ${max} item${max === 1 ? '' : 's'}` }];
      if (issue.origin === 'string') return [{ path, message: `must be at most ${max} characters` }];
      return [{ path, message: `must be at most ${max}` }];
    }
    case 'invalid_union':
      return [{ path, message: 'does not match any allowed form' }];
    default:
      return [{ path, message: issue.message }];
  }
}
