// What an importer produces, whichever the source: resources in meshd's `kind` form, the problems
// found (each naming file, resource and property) and what goes into the closing report.
import type { SpecError } from '../spec/errors';
import type { ResourceKind } from '../spec/resource-schema';
import type { SourceMap } from './yaml-source';

/** One resource in meshd's `kind` form, with where it came from. */
export interface ImportedResource {
  readonly kind: Exclude<ResourceKind, 'Secret'>;
  /** `kind`, name fields, `spec` (and tags), in the order they are written. */
  readonly body: SourceMap;
  /** Where it came from, e.g. `mesh.yaml: ColorBlue` (for the report). */
  readonly origin: string;
}

/** The result of reading the inputs of one import. */
export interface ImportResult {
  readonly resources: ImportedResource[];
  readonly errors: SpecError[];
  /** What was dropped or changed on the way (each names where). */
  readonly warnings: SpecError[];
  /** Resources left out and why, e.g. `3 non-App-Mesh resources (AWS::ECS::Service ×2, AWS::IAM::Role)`. */
  readonly skipped: string[];
  /** What was left out on purpose, said once each (e.g. selectors, which place pods). */
  readonly notes?: string[];
}
