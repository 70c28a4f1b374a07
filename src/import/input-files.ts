// Reading the files an import is given: each path a file, or a directory whose .yaml, .yml and
// .json files (directly inside it, in name order) are read. Every file is size-checked before it
// is read, as spec files are.
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { SpecError } from '../spec/errors';
import { SPEC_LIMIT_FLAGS } from '../spec/limits';

/** A file read: the name errors use (the path as given) and its text. */
export interface InputFile {
  readonly name: string;
  readonly text: string;
}

const inputExtensions = ['.yaml', '.yml', '.json', '.template'];

function reason(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
}

/** Read `paths` (files, or directories of files); problems name the path. */
export async function readInputFiles(paths: readonly string[], maxFileBytes: number): Promise<{ files: InputFile[]; errors: SpecError[] }> {
  const files: InputFile[] = [];
  const errors: SpecError[] = [];
  const readOne = async (name: string): Promise<void> => {
    try {
      const stats = await stat(name);
      if (stats.size > maxFileBytes) {
        errors.push({ file: name, message: `is ${stats.size} bytes, over the limit of ${maxFileBytes} bytes (${SPEC_LIMIT_FLAGS.maxFileBytes}); not read` });
        return;
      }
      files.push({ name, text: await readFile(name, 'utf8') });
    } catch (error) {
      errors.push({ file: name, message: `cannot read: ${reason(error)}` });
    }
  };
  for (const given of paths) {
    let isDirectory = false;
    try {
      isDirectory = (await stat(given)).isDirectory();
    } catch (error) {
      errors.push({ file: given, message: `cannot read: ${reason(error)}` });
      continue;
    }
    if (!isDirectory) {
      await readOne(given);
      continue;
    }
    const names = (await readdir(given)).filter((name) => !name.startsWith('.') && inputExtensions.includes(path.extname(name).toLowerCase())).sort();
    if (names.length === 0) errors.push({ file: given, message: `holds no ${inputExtensions.join(', ')} files` });
    for (const name of names) {
      const file = path.join(given, name);
      if ((await stat(file)).isFile()) await readOne(file);
    }
  }
  return { files, errors };
}
