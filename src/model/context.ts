// State shared by the model-building steps: options, the error list every step appends to, and
// the resources that were named but invalid (references to them are not reported as missing:
// their own errors already explain the problem).
import type { SpecError } from '../spec/errors';
import type { DeclaredResource } from '../spec/parse';
import { labelOf, type Resource, type ResourceKind } from '../spec/resource-schema';

export interface ModelContext {
  readonly trustDomain: string;
  readonly errors: SpecError[];
  readonly invalid: ReadonlySet<string>;
}

/** Key of a resource within the mesh set: `<kind>|<mesh>|<name>`. */
export function declaredKey(kind: ResourceKind, meshName: string, name: string): string {
  return `${kind}|${meshName}|${name}`;
}

export function newContext(trustDomain: string, invalid: readonly DeclaredResource[]): ModelContext {
  return {
    trustDomain,
    errors: [],
    invalid: new Set(invalid.map((item) => declaredKey(item.kind, item.meshName, item.name))),
  };
}

/** True when `name` of `kind` was declared but failed validation. */
export function isInvalid(context: ModelContext, kind: ResourceKind, meshName: string, name: string): boolean {
  return context.invalid.has(declaredKey(kind, meshName, name));
}

/** Record an error about a field of a resource. */
export function report(context: ModelContext, resource: Resource, path: string, message: string): void {
  context.errors.push({ file: resource.source.file, resource: labelOf(resource), ...(path ? { path } : {}), message });
}

/** `nodes.yaml (document 2)`: where a resource was declared, for "already defined" messages. */
export function whereDeclared(resource: Resource): string {
  return `${resource.source.file} (document ${resource.source.index + 1})`;
}
