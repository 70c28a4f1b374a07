import { loadMesh } from '../model/load-mesh';
import { formatError, type SpecError } from '../spec/errors';
import type { SpecLimits } from '../spec/limits';

function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

// Warnings (what meshd accepts but cannot honour) follow the errors; they alone do not fail.
function warningLines(warnings: readonly SpecError[]): string[] {
  return warnings.map((warning) => `warning: ${formatError(warning)}`);
}

/** `meshd validate DIR|FILE`: every error on its own line, then every warning; exit 1 on any error. */
export async function runValidate(dir: string, trustDomain: string, limits?: SpecLimits): Promise<{ exitCode: number; output: string }> {
  const result = await loadMesh(dir, { trustDomain, ...(limits ? { limits } : {}) });
  if (!result.ok) {
    const lines = [...result.errors.map(formatError), ...warningLines(result.warnings)];
    const warned = result.warnings.length > 0 ? ` and ${plural(result.warnings.length, 'warning')}` : '';
    lines.push(`${plural(result.errors.length, 'error')}${warned} in ${dir}`);
    return { exitCode: 1, output: lines.join('\n') };
  }
  const { model } = result;
  const endpoints = Object.values(model.endpoints);
  const nodes = endpoints.filter((e) => e.kind === 'virtualNode').length;
  const warned = model.warnings.length > 0 ? `, ${plural(model.warnings.length, 'warning')}` : '';
  const summary = `${dir}: valid (${plural(model.meshes.length, 'mesh', 'meshes')}, ${plural(nodes, 'virtual node')}, ${plural(endpoints.length - nodes, 'virtual gateway')}${warned})`;
  return { exitCode: 0, output: [...warningLines(model.warnings), summary].join('\n') };
}
