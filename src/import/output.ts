// Writing an import's result: one meshd spec file per resource (or all of them as one
// multi-document YAML stream), always in the same order and the same bytes for the same input,
// then validated exactly as `meshd validate` would validate the directory.
import { stringify } from 'yaml';
import { buildModel } from '../model/build';
import { sortErrors, type SpecError } from '../spec/errors';
import { DEFAULT_SPEC_LIMITS } from '../spec/limits';
import { parseSpecText, type DeclaredResource } from '../spec/parse';
import { nameFieldOf, type Resource } from '../spec/resource-schema';
import type { ImportedResource } from './imported';

/** One spec file to write. */
export interface SpecFile {
  readonly name: string;
  readonly text: string;
}

const kindOrder = ['Mesh', 'VirtualGateway', 'GatewayRoute', 'VirtualNode', 'VirtualService', 'VirtualRouter', 'Route'];
const kindSlug: Readonly<Record<string, string>> = {
  Mesh: 'mesh', VirtualNode: 'virtual-node', VirtualService: 'virtual-service', VirtualRouter: 'virtual-router',
  Route: 'route', VirtualGateway: 'virtual-gateway', GatewayRoute: 'gateway-route',
};

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The names that order and name a resource's file: mesh, kind, parent (router or gateway), own name. */
function sortKey(resource: ImportedResource): string[] {
  const { body } = resource;
  const own = text(body[nameFieldOf[resource.kind]]);
  const parent = resource.kind === 'Route' ? text(body.virtualRouterName) : resource.kind === 'GatewayRoute' ? text(body.virtualGatewayName) : '';
  return [text(body.meshName), String(kindOrder.indexOf(resource.kind)).padStart(2, '0'), parent, own];
}

// A file name holds only what every file system takes; names App Mesh allows may hold more.
function safe(part: string): string {
  return part.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The spec files for `resources`, sorted by mesh, kind and name (so the input's order does not matter). */
export function renderSpecFiles(resources: readonly ImportedResource[], command: string): SpecFile[] {
  const keyed = resources.map((resource) => ({ resource, key: sortKey(resource) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < a.key.length; i += 1) if (a.key[i] !== b.key[i]) return a.key[i]! < b.key[i]! ? -1 : 1;
    return 0;
  });
  const taken = new Set<string>();
  return keyed.map(({ resource, key }) => {
    const [mesh, , parent, own] = key;
    const stem = [mesh!, kindSlug[resource.kind]!, ...(parent ? [parent] : []), ...(resource.kind === 'Mesh' ? [] : [own!])].map(safe).join('.');
    let name = `${stem}.yaml`;
    for (let n = 2; taken.has(name); n += 1) name = `${stem}.${n}.yaml`;
    taken.add(name);
    const header = `# ${command}: ${resource.origin}\n`;
    return { name, text: header + stringify(resource.body, { lineWidth: 0, aliasDuplicateObjects: false }) };
  });
}

/** All files as one multi-document YAML stream (what is printed without --out). */
export function joinDocuments(files: readonly SpecFile[]): string {
  return files.map((file) => file.text).join('---\n');
}

/** Validate the files as `meshd validate` validates a directory of them: schemas, then the model. */
export function validateSpecFiles(files: readonly SpecFile[], trustDomain: string): { errors: SpecError[]; warnings: SpecError[] } {
  const resources: Resource[] = [];
  const invalid: DeclaredResource[] = [];
  const errors: SpecError[] = [];
  for (const file of files) {
    const parsed = parseSpecText(file.name, file.text, DEFAULT_SPEC_LIMITS);
    resources.push(...parsed.resources);
    invalid.push(...parsed.invalid);
    errors.push(...parsed.errors);
  }
  const built = buildModel(resources, { invalid, trustDomain });
  if (!built.ok) errors.push(...built.errors);
  return { errors: sortErrors(errors), warnings: built.ok ? [...built.model.warnings] : [...built.warnings] };
}
