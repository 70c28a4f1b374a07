// The closing report of an import: resources per kind, what was skipped, every warning, and the
// validation errors of the result (each naming where it comes from).
import { formatError, type SpecError } from '../spec/errors';
import type { ImportedResource } from './imported';

const kindOrder = ['Mesh', 'VirtualNode', 'VirtualService', 'VirtualRouter', 'Route', 'VirtualGateway', 'GatewayRoute'];

/** What the report says. */
export interface ReportInput {
  readonly resources: readonly ImportedResource[];
  readonly skipped: readonly string[];
  readonly notes?: readonly string[];
  readonly warnings: readonly SpecError[];
  /** Problems reading the inputs: nothing is written when there are any. */
  readonly importErrors: readonly SpecError[];
  /** Problems `meshd validate` finds in the result. */
  readonly validationErrors: readonly SpecError[];
  /** Where the result went, e.g. `wrote 9 files to mesh/`, or `checked (--check), nothing written`. */
  readonly destination: string;
}

/** The report's lines. */
export function formatReport(input: ReportInput): string {
  const counts = kindOrder
    .map((kind) => [kind, input.resources.filter((resource) => resource.kind === kind).length] as const)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${count} ${kind}`);
  const lines: string[] = [
    ...input.importErrors.map((error) => `error: ${formatError(error)}`),
    ...input.validationErrors.map((error) => `invalid: ${formatError(error)}`),
    ...input.warnings.map((warning) => `warning: ${formatError(warning)}`),
    `imported: ${counts.length > 0 ? counts.join(', ') : 'nothing'}`,
    ...input.skipped.map((line) => `skipped: ${line}`),
    ...(input.notes ?? []).map((line) => `note: ${line}`),
  ];
  const problems = input.importErrors.length + input.validationErrors.length;
  lines.push(problems > 0
    ? `${problems} error${problems === 1 ? '' : 's'}, ${input.warnings.length} warning${input.warnings.length === 1 ? '' : 's'}; ${input.destination}`
    : `valid, ${input.warnings.length} warning${input.warnings.length === 1 ? '' : 's'}; ${input.destination}`);
  return lines.join('\n');
}
