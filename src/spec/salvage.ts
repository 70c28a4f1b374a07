// When a resource fails its schema, the model cannot check it against the others (dangling
// references, port clashes, SDS names), and those errors would surface only in a later run, after
// the schema errors are fixed. Salvage removes exactly what the schema refused, widening to the
// enclosing object when a removed field was required, and validates again. What then passes is
// checked by the model for errors of its own; it is never built into a served mesh.
// Array elements are never removed (later indexes would shift and errors would name the wrong
// element): a resource that needs that, or loses its name or spec, has nothing to salvage.
import type { z } from 'zod';

// Each round removes at least one refused part; real specs settle in two or three.
const maxRounds = 8;

type Path = readonly PropertyKey[];

function isRecord(value: unknown): value is Record<PropertyKey, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(root: unknown, path: Path): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Remove the value at `path`, or the object holding it when it is absent; false when that is impossible. */
function removeAt(root: Record<PropertyKey, unknown>, path: Path): boolean {
  for (let end = path.length; end > 0; end -= 1) {
    const parent = valueAt(root, path.slice(0, end - 1));
    // Gone with an enclosing block removed for another issue of the same round.
    if (parent === undefined) return true;
    if (!isRecord(parent)) return false;
    const key = path[end - 1]!;
    if (parent[key] !== undefined) {
      delete parent[key];
      return true;
    }
  }
  return false;
}

/**
 * The part of `input` that passes `schema`, or undefined when nothing useful is left. `issues` are
 * the schema's issues for `input` (the caller has them already).
 */
export function salvage(schema: z.ZodType, input: Record<string, unknown>, issues: readonly z.core.$ZodIssue[]): unknown {
  const body = structuredClone(input);
  let pending = issues;
  for (let round = 0; round < maxRounds; round += 1) {
    for (const issue of pending) {
      const removed = issue.code === 'unrecognized_keys'
        ? issue.keys.every((key) => removeAt(body, [...issue.path, key]))
        : removeAt(body, issue.path);
      if (!removed) return undefined;
    }
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    pending = result.error.issues;
  }
  return undefined;
}
