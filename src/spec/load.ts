// Reading a spec directory: every .yaml, .yml and .json file directly inside it, in name order
// (so results and error order are stable), each parsed and validated; all errors collected.
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { sortErrors, type SpecError } from './errors';
import { parseSpecText, type DeclaredResource } from './parse';
import type { Resource } from './resource-schema';

/** Everything read from a spec directory. */
export interface LoadedSpecs {
  /** Valid resources, in file name order then document order. */
  readonly resources: readonly Resource[];
  /** Named resources that failed validation: the model does not report references to them as missing. */
  readonly invalid: readonly DeclaredResource[];
  /** Every error found, by file. */
  readonly errors: readonly SpecError[];
}

const specExtensions = ['.yaml', '.yml', '.json'];

/** True for a file name meshd reads as a spec (dot-files such as editor backups are skipped). */
export function isSpecFile(name: string): boolean {
  return !name.startsWith('.') && specExtensions.includes(path.extname(name).toLowerCase());
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}

/** Read and validate every spec file in `dir` (not its subdirectories). */
export async function loadSpecDir(dir: string): Promise<LoadedSpecs> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries.filter((entry) => entry.isFile() && isSpecFile(entry.name)).map((entry) => entry.name).sort();
  } catch (error) {
    return { resources: [], invalid: [], errors: [{ file: dir, message: `cannot read spec directory: ${reason(error)}` }] };
  }
  if (names.length === 0) {
    return { resources: [], invalid: [], errors: [{ file: dir, message: 'no .yaml, .yml or .json spec files' }] };
  }
  const resources: Resource[] = [];
  const invalid: DeclaredResource[] = [];
  const errors: SpecError[] = [];
  for (const name of names) {
    let text: string;
    try {
      text = await readFile(path.join(dir, name), 'utf8');
    } catch (error) {
      errors.push({ file: name, message: `cannot read: ${reason(error)}` });
      continue;
    }
    const parsed = parseSpecText(name, text);
    resources.push(...parsed.resources);
    invalid.push(...parsed.invalid);
    errors.push(...parsed.errors);
  }
  return { resources, invalid, errors: sortErrors(errors) };
}
