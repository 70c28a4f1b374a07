// A CloudFormation template read from YAML or JSON: its sections as plain values, with short-form
// tags already in the long form. Only what the import needs is kept: Parameters, Mappings,
// Conditions, Resources and Outputs.
import type { SpecError } from '../spec/errors';
import { isSourceMap, readSource, type SourceMap } from './yaml-source';

/** One entry of `Resources`. */
export interface TemplateResource {
  readonly type: string;
  readonly properties: SourceMap;
  readonly condition?: string;
}

/** A template's sections. */
export interface Template {
  /** The name errors use (the file name as given). */
  readonly file: string;
  readonly parameters: Readonly<Record<string, SourceMap>>;
  readonly mappings: SourceMap;
  readonly conditions: SourceMap;
  readonly resources: Readonly<Record<string, TemplateResource>>;
  readonly outputs: Readonly<Record<string, SourceMap>>;
}

function mapsIn(section: SourceMap | undefined, file: string, name: string, errors: SpecError[]): Record<string, SourceMap> {
  const out: Record<string, SourceMap> = {};
  for (const [key, value] of Object.entries(section ?? {})) {
    if (isSourceMap(value)) out[key] = value;
    else errors.push({ file, resource: key, path: name, message: 'must be a mapping' });
  }
  return out;
}

function section(root: SourceMap, name: string, file: string, errors: SpecError[]): SourceMap | undefined {
  const value = root[name];
  if (value === undefined || value === null) return undefined;
  if (isSourceMap(value)) return value;
  errors.push({ file, path: name, message: 'must be a mapping' });
  return undefined;
}

/** Read a template's text; every structural problem is returned, naming the file. */
export function readTemplate(file: string, text: string, maxAliases: number): { template: Template } | { errors: SpecError[] } {
  const read = readSource(text, { shortForms: true, maxAliases });
  if (!read.ok) return { errors: [{ file, ...(read.line !== undefined ? { line: read.line } : {}), message: read.message }] };
  if (read.documents.length !== 1 || !isSourceMap(read.documents[0]!.value)) {
    return { errors: [{ file, message: 'must hold one CloudFormation template (a mapping with Resources)' }] };
  }
  const root = read.documents[0]!.value;
  const errors: SpecError[] = [];
  const resourcesSection = section(root, 'Resources', file, errors);
  if (resourcesSection === undefined && errors.length === 0) errors.push({ file, path: 'Resources', message: 'is missing: this is not a CloudFormation template' });
  const resources: Record<string, TemplateResource> = {};
  for (const [logicalId, entry] of Object.entries(mapsIn(resourcesSection, file, 'Resources', errors))) {
    const type = entry.Type;
    const properties = entry.Properties ?? {};
    if (typeof type !== 'string') {
      errors.push({ file, resource: logicalId, path: 'Type', message: 'must be a resource type such as AWS::AppMesh::VirtualNode' });
      continue;
    }
    if (!isSourceMap(properties)) {
      errors.push({ file, resource: logicalId, path: 'Properties', message: 'must be a mapping' });
      continue;
    }
    const condition = entry.Condition;
    if (condition !== undefined && typeof condition !== 'string') {
      errors.push({ file, resource: logicalId, path: 'Condition', message: 'must name a condition of Conditions' });
      continue;
    }
    resources[logicalId] = { type, properties, ...(condition !== undefined ? { condition } : {}) };
  }
  const template: Template = {
    file,
    parameters: mapsIn(section(root, 'Parameters', file, errors), file, 'Parameters', errors),
    mappings: section(root, 'Mappings', file, errors) ?? {},
    conditions: section(root, 'Conditions', file, errors) ?? {},
    resources,
    outputs: mapsIn(section(root, 'Outputs', file, errors), file, 'Outputs', errors),
  };
  return errors.length > 0 ? { errors } : { template };
}
