// `meshd import cloudformation` and `meshd import k8s`: read the inputs, convert them, then write
// (or print, or only check) the spec files and validate them as `meshd validate` does. The result
// goes to stdout (the YAML, without --out); the report always goes to stderr, so it never mixes
// with the YAML.
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { importTemplates } from '../import/cfn-import';
import { ParameterOverrides, parseParameter } from '../import/cfn-parameters';
import { readTemplate, type Template } from '../import/cfn-template';
import type { ImportResult } from '../import/imported';
import { readInputFiles } from '../import/input-files';
import { mapManifests } from '../import/k8s-mapping';
import { readManifests } from '../import/k8s-manifests';
import { joinDocuments, renderSpecFiles, validateSpecFiles } from '../import/output';
import { formatReport } from '../import/report';
import type { SpecError } from '../spec/errors';
import type { SpecLimits } from '../spec/limits';
import { writeFileAtomic } from '../util/atomic-file';

/** Options both import commands take. */
export interface ImportOptions {
  /** Directory to write one spec file per resource into; stdout when absent. */
  readonly out?: string;
  /** Validate only; write nothing. */
  readonly check: boolean;
  readonly trustDomain: string;
  readonly limits: SpecLimits;
}

/** What the command prints and its exit code. */
export interface ImportOutcome {
  readonly exitCode: number;
  /** The YAML (stdout), when neither --out nor --check is given. */
  readonly output: string;
  /** The report (stderr). */
  readonly report: string;
}

/** Write, print or check the result of reading the inputs, and say how it went. */
export async function finishImport(command: string, result: ImportResult, options: ImportOptions): Promise<ImportOutcome> {
  const refuse = (destination: string): ImportOutcome => ({
    exitCode: 1,
    output: '',
    report: formatReport({ resources: result.resources, skipped: result.skipped, ...(result.notes ? { notes: result.notes } : {}), warnings: result.warnings, importErrors: result.errors, validationErrors: [], destination }),
  });
  if (result.errors.length > 0) return refuse('nothing written');
  const files = renderSpecFiles(result.resources, command);
  const validation = validateSpecFiles(files, options.trustDomain);
  let destination: string;
  let output = '';
  if (options.check) {
    destination = 'checked (--check), nothing written';
  } else if (options.out !== undefined) {
    try {
      await mkdir(options.out, { recursive: true });
      for (const file of files) await writeFileAtomic(path.join(options.out, file.name), file.text, 0o644);
    } catch (error) {
      return refuse(`writing to ${options.out} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    destination = `wrote ${files.length} file${files.length === 1 ? '' : 's'} to ${options.out}`;
  } else {
    output = joinDocuments(files);
    destination = `printed ${files.length} resource${files.length === 1 ? '' : 's'}`;
  }
  const warnings: SpecError[] = [...result.warnings, ...validation.warnings];
  return {
    exitCode: validation.errors.length > 0 ? 1 : 0,
    output,
    report: formatReport({ resources: result.resources, skipped: result.skipped, ...(result.notes ? { notes: result.notes } : {}), warnings, importErrors: [], validationErrors: validation.errors, destination }),
  };
}

/** `meshd import cloudformation TEMPLATE… [--parameter KEY=VALUE…]`. */
export async function runImportCloudFormation(templatePaths: readonly string[], parameters: readonly string[], options: ImportOptions): Promise<ImportOutcome> {
  const errors: SpecError[] = [];
  const entries: Array<{ scope?: string; key: string; value: string }> = [];
  for (const text of parameters) {
    const parsed = parseParameter(text);
    if ('problem' in parsed) errors.push({ file: '--parameter', message: parsed.problem });
    else entries.push(parsed);
  }
  const read = await readInputFiles(templatePaths, options.limits.maxFileBytes);
  errors.push(...read.errors);
  const templates: Template[] = [];
  for (const file of read.files) {
    const parsed = readTemplate(file.name, file.text, options.limits.maxAliases);
    if ('errors' in parsed) errors.push(...parsed.errors);
    else templates.push(parsed.template);
  }
  const result = importTemplates(templates, new ParameterOverrides(entries));
  return finishImport('meshd import cloudformation', { ...result, errors: [...errors, ...result.errors] }, options);
}

/** `meshd import k8s FILE|DIR…`: the App Mesh controller's resources (appmesh.k8s.aws/v1beta2). */
export async function runImportK8s(paths: readonly string[], options: ImportOptions): Promise<ImportOutcome> {
  const read = await readInputFiles(paths, options.limits.maxFileBytes);
  const result = mapManifests(readManifests(read.files, options.limits.maxAliases));
  return finishImport('meshd import k8s', { ...result, errors: [...read.errors, ...result.errors] }, options);
}
