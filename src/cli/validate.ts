import { loadMesh } from '../model/load-mesh';
import { formatError } from '../spec/errors';
import type { SpecLimits } from '../spec/limits';

/** `meshd validate DIR|FILE`: every error on its own line, exit 1 on any. */
export async function runValidate(dir: string, trustDomain: string, limits?: SpecLimits): Promise<{ exitCode: number; output: string }> {
  const result = await loadMesh(dir, { trustDomain, ...(limits ? { limits } : {}) });
  if (!result.ok) {
    const lines = result.errors.map(formatError);
    lines.push(`${result.errors.length} error${result.errors.length === 1 ? '' : 's'} in ${dir}`);
    return { exitCode: 1, output: lines.join('\n') };
  }
  const endpoints = Object.values(result.model.endpoints);
  const nodes = endpoints.filter((e) => e.kind === 'virtualNode').length;
  return {
    exitCode: 0,
    output: `${dir}: valid (${result.model.meshes.length} mesh${result.model.meshes.length === 1 ? '' : 'es'}, ${nodes} virtual node${nodes === 1 ? '' : 's'}, ${endpoints.length - nodes} virtual gateway${endpoints.length - nodes === 1 ? '' : 's'})`,
  };
}
