// `meshd import cloudformation`: the AWS::AppMesh::* resources of one or more templates, resolved
// (parameters, mappings, conditions, intrinsic functions, exports between the templates) and
// converted to meshd's `kind` form. Everything else in the templates is counted and skipped.
import type { SpecError } from '../spec/errors';
import { appMeshTypes, nameFromAppMeshArn } from './cfn-kinds';
import type { ParameterOverrides } from './cfn-parameters';
import { NO_VALUE, ResolveError, TemplateResolver, type ExportLookup } from './cfn-intrinsics';
import type { Template } from './cfn-template';
import type { ImportResult, ImportedResource } from './imported';
import { toApiShape } from './property-names';
import { isSourceMap, type SourceMap, type SourceValue } from './yaml-source';

// Fields that name another App Mesh resource, and the GetAtt attribute that gives that name: a
// `Ref` there (an ARN in CloudFormation) is taken as the name it ends in.
const referenceFields: Readonly<Record<string, string>> = {
  meshName: 'MeshName', virtualNodeName: 'VirtualNodeName', virtualNode: 'VirtualNodeName', virtualServiceName: 'VirtualServiceName',
  virtualRouterName: 'VirtualRouterName', virtualGatewayName: 'VirtualGatewayName',
};

function arnWarning(file: string, logicalId: string, path: string, arn: string, field: string): SpecError {
  return {
    file, resource: logicalId, path,
    message: `is an ARN (what Ref gives); App Mesh takes a name here, so ${nameFromAppMeshArn(arn)} is used (write !GetAtt <LogicalId>.${referenceFields[field]} instead)`,
  };
}

/** Exports of all templates, each resolved once, on demand, in its own template. */
class StackExports implements ExportLookup {
  private readonly declared = new Map<string, { resolver: TemplateResolver; output: string }>();
  private readonly values = new Map<string, SourceValue>();
  private readonly resolving = new Set<string>();
  unresolvedExports = 0;

  declare(name: string, resolver: TemplateResolver, output: string): void {
    this.declared.set(name, { resolver, output });
  }

  exportValue(name: string, path: string): SourceValue | undefined {
    if (this.values.has(name)) return this.values.get(name);
    const declared = this.declared.get(name);
    if (!declared) return undefined;
    if (this.resolving.has(name)) throw new ResolveError(`export ${name} depends on itself`, path);
    this.resolving.add(name);
    try {
      const outputPath = `Outputs.${declared.output}.Value`;
      const value = declared.resolver.resolve(declared.resolver.template.outputs[declared.output]!.Value ?? null, outputPath);
      if (value === NO_VALUE) throw new ResolveError(`export ${name} has no value`, path);
      this.values.set(name, value);
      return value;
    } catch (error) {
      if (error instanceof ResolveError) {
        throw new ResolveError(`export ${name} (${declared.resolver.template.file}: Outputs.${declared.output}) cannot be resolved: ${error.message}`, path);
      }
      throw error;
    } finally {
      this.resolving.delete(name);
    }
  }
}

/** Replace App Mesh ARNs in name fields by the names they end in, with a warning each. */
function namesForArns(value: SourceValue, path: string, onArn: (path: string, arn: string, field: string) => void): SourceValue {
  if (Array.isArray(value)) return value.map((item, index) => namesForArns(item, `${path}[${index}]`, onArn));
  if (!isSourceMap(value)) return value;
  const out: SourceMap = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    const name = referenceFields[key] !== undefined && typeof child === 'string' ? nameFromAppMeshArn(child) : undefined;
    if (name !== undefined) onArn(childPath, child as string, key);
    out[key] = name ?? namesForArns(child, childPath, onArn);
  }
  return out;
}

/**
 * Resolve a resource's properties, collecting a problem for every intrinsic function that cannot be
 * resolved instead of stopping at the first (the paths are those the resolver uses).
 */
function resolveEach(resolver: TemplateResolver, value: SourceValue, path: string, problems: ResolveError[]): SourceValue | typeof NO_VALUE {
  const plainMap = isSourceMap(value) && !Object.keys(value).some((key) => key === 'Ref' || key.startsWith('Fn::'));
  if (Array.isArray(value) || plainMap) {
    if (Array.isArray(value)) {
      return value.map((item, index) => resolveEach(resolver, item, `${path}[${index}]`, problems)).filter((item): item is SourceValue => item !== NO_VALUE);
    }
    const out: SourceMap = {};
    for (const [key, child] of Object.entries(value as SourceMap)) {
      const resolved = resolveEach(resolver, child, path === '' ? key : `${path}.${key}`, problems);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }
  try {
    return resolver.resolve(value, path);
  } catch (error) {
    if (!(error instanceof ResolveError)) throw error;
    problems.push(error);
    return NO_VALUE;
  }
}

function resolveProblem(file: string, logicalId: string, error: unknown): SpecError {
  if (error instanceof ResolveError) return { file, resource: logicalId, path: error.path, message: error.message };
  throw error;
}

/** Import the App Mesh resources of `templates`, read together (exports of one are imports of another). */
export function importTemplates(templates: readonly Template[], overrides: ParameterOverrides): ImportResult {
  const exports = new StackExports();
  const errors: SpecError[] = [];
  const warnings: SpecError[] = [];
  const resources: ImportedResource[] = [];
  const resolvers = templates.map((template) => new TemplateResolver(template, overrides, exports));
  // A value given for a declared parameter is used even where nothing refers to the parameter.
  for (const template of templates) for (const name of Object.keys(template.parameters)) overrides.lookup(template.file, name);
  for (const resolver of resolvers) {
    for (const [output, declaration] of Object.entries(resolver.template.outputs)) {
      const exported = declaration.Export;
      if (!isSourceMap(exported) || exported.Name === undefined) continue;
      try {
        const name = resolver.resolve(exported.Name, `Export.Name`);
        if (typeof name !== 'string') throw new ResolveError('must be a string', 'Export.Name');
        exports.declare(name, resolver, output);
      } catch (error) {
        exports.unresolvedExports += 1;
        errors.push(resolveProblem(resolver.template.file, `Outputs.${output}`, error));
      }
    }
  }
  const otherTypes = new Map<string, number>();
  let conditionedOut = 0;
  for (const resolver of resolvers) {
    const { file } = resolver.template;
    for (const [logicalId, resource] of Object.entries(resolver.template.resources)) {
      const type = appMeshTypes[resource.type];
      if (type === undefined) {
        otherTypes.set(resource.type, (otherTypes.get(resource.type) ?? 0) + 1);
        continue;
      }
      try {
        if (resource.condition !== undefined && !resolver.condition(resource.condition, 'Condition')) {
          conditionedOut += 1;
          continue;
        }
        const problems: ResolveError[] = [];
        const resolved = resolveEach(resolver, resource.properties, 'Properties', problems);
        if (problems.length > 0) {
          for (const problem of problems) errors.push(resolveProblem(file, logicalId, problem));
          continue;
        }
        const names = resolver.namesOf(logicalId, 'Properties');
        const properties = toApiShape(resolved === NO_VALUE ? {} : resolved) as SourceMap;
        const spec = namesForArns(properties.spec ?? {}, 'Properties.Spec', (path, arn, field) => warnings.push(arnWarning(file, logicalId, path, arn, field)));
        // The names themselves may be Refs too (`MeshName: !Ref Mesh`).
        const nameOf = (value: string, property: string, field: string): string => {
          const name = nameFromAppMeshArn(value);
          if (name === undefined) return value;
          warnings.push(arnWarning(file, logicalId, `Properties.${property}`, value, field));
          return name;
        };
        const body: SourceMap = { kind: type.kind, meshName: nameOf(names.meshName, 'MeshName', 'meshName') };
        if (type.parentProperty === 'VirtualRouterName') body.virtualRouterName = nameOf(names.parentName!, type.parentProperty, 'virtualRouterName');
        if (type.parentProperty === 'VirtualGatewayName') body.virtualGatewayName = nameOf(names.parentName!, type.parentProperty, 'virtualGatewayName');
        if (type.kind !== 'Mesh') body[type.nameProperty.charAt(0).toLowerCase() + type.nameProperty.slice(1)] = names.name;
        body.spec = spec;
        if (properties.tags !== undefined) body.tags = properties.tags;
        if (properties.meshOwner !== undefined) body.meshOwner = properties.meshOwner;
        resources.push({ kind: type.kind, body, origin: `${file}: ${logicalId}` });
      } catch (error) {
        errors.push(resolveProblem(file, logicalId, error));
      }
    }
  }
  const skipped: string[] = [];
  const otherCount = [...otherTypes.values()].reduce((sum, count) => sum + count, 0);
  if (otherCount > 0) {
    const types = [...otherTypes.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, count]) => (count > 1 ? `${name} ×${count}` : name));
    skipped.push(`${otherCount} non-App-Mesh resource${otherCount === 1 ? '' : 's'} (${types.join(', ')})`);
  }
  if (conditionedOut > 0) skipped.push(`${conditionedOut} resource${conditionedOut === 1 ? '' : 's'} whose Condition is false`);
  for (const key of overrides.unused()) warnings.push({ file: '--parameter', message: `${key} is used by no template given` });
  return { resources, errors, warnings, skipped };
}
