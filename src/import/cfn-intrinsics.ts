// Resolving CloudFormation's intrinsic functions offline, as far as App Mesh resources need: Ref,
// Fn::Sub, Fn::GetAtt, Fn::If, Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap, Fn::ImportValue and
// the condition functions. What only a deployed stack knows (a region, another service's
// attribute, an export no given template declares) must come from `--parameter`; the error says
// which one to pass.
import { appMeshTypes, arnResourcePath, nameAttribute, type AppMeshNames } from './cfn-kinds';
import type { ParameterOverrides } from './cfn-parameters';
import type { Template } from './cfn-template';
import { isSourceMap, type SourceMap, type SourceValue } from './yaml-source';

/** `AWS::NoValue`: the property it stands in is removed. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');
export type Resolved = SourceValue | typeof NO_VALUE;

/** A value that cannot be resolved; `path` is the property path inside the resource or output. */
export class ResolveError extends Error {
  constructor(message: string, readonly path: string) {
    super(message);
  }
}

/** Exports of every template imported together, resolved on demand. */
export interface ExportLookup {
  exportValue(name: string, path: string): SourceValue | undefined;
  /** How many Outputs declare an export whose name could not be resolved. */
  readonly unresolvedExports: number;
}

// Pseudo parameters with a value that is the same everywhere; the others identify a deployed stack.
const fixedPseudo: Readonly<Record<string, string>> = { 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };
const stackPseudo = new Set(['AWS::Region', 'AWS::AccountId', 'AWS::StackName', 'AWS::StackId', 'AWS::NotificationARNs']);

function describe(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 80) ?? String(value);
}

function scalarText(value: Resolved, what: string, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ResolveError(`${what} must be a string (found ${describe(value)})`, path);
}

function listOf(value: Resolved, what: string, path: string): SourceValue[] {
  if (Array.isArray(value)) return value;
  throw new ResolveError(`${what} must be a list (found ${describe(value)})`, path);
}

/** Resolves the values of one template. */
export class TemplateResolver {
  private readonly conditionValues = new Map<string, boolean>();
  private readonly names = new Map<string, AppMeshNames>();
  private readonly inProgress = new Set<string>();

  constructor(readonly template: Template, private readonly overrides: ParameterOverrides, private readonly exports: ExportLookup) {}

  private hint(key: string): string {
    const base = this.template.file.split(/[\\/]/).pop() ?? this.template.file;
    return `pass --parameter ${key}=VALUE (or --parameter ${base}:${key}=VALUE for this template only)`;
  }

  /** Resolve a value; `AWS::NoValue` in a mapping or list removes the entry. */
  resolve(value: SourceValue, path: string): Resolved {
    if (Array.isArray(value)) {
      const out: SourceValue[] = [];
      value.forEach((item, index) => {
        const resolved = this.resolve(item, `${path}[${index}]`);
        if (resolved !== NO_VALUE) out.push(resolved);
      });
      return out;
    }
    if (!isSourceMap(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return this.intrinsic(keys[0]!, value[keys[0]!]!, path);
    const out: SourceMap = {};
    for (const key of keys) {
      const resolved = this.resolve(value[key]!, path === '' ? key : `${path}.${key}`);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  /** Resolve a value that must be present (not AWS::NoValue). */
  private value(value: SourceValue, path: string): SourceValue {
    const resolved = this.resolve(value, path);
    if (resolved === NO_VALUE) throw new ResolveError('AWS::NoValue cannot stand here', path);
    return resolved;
  }

  private intrinsic(name: string, argument: SourceValue, path: string): Resolved {
    const at = `${path}.${name}`;
    switch (name) {
      case 'Ref': return this.ref(scalarText(argument, 'Ref', at), at);
      case 'Fn::GetAtt': {
        const parts = typeof argument === 'string' ? argument.split(/\.(.*)/s) : listOf(this.value(argument, at), 'Fn::GetAtt', at);
        const [logicalId, attribute] = parts.map((part) => scalarText(part, 'Fn::GetAtt', at));
        if (!logicalId || !attribute) throw new ResolveError('Fn::GetAtt must be [LogicalId, Attribute] or "LogicalId.Attribute"', at);
        return this.getAtt(logicalId, attribute, at);
      }
      case 'Fn::Sub': return this.sub(argument, at);
      case 'Fn::If': {
        const args = listOf(argument, 'Fn::If', at);
        if (args.length !== 3) throw new ResolveError('Fn::If must be [Condition, ValueIfTrue, ValueIfFalse]', at);
        return this.condition(scalarText(args[0]!, 'Fn::If condition', at), at) ? this.resolve(args[1]!, at) : this.resolve(args[2]!, at);
      }
      case 'Fn::Join': {
        const args = listOf(argument, 'Fn::Join', at);
        if (args.length !== 2) throw new ResolveError('Fn::Join must be [Delimiter, [Values]]', at);
        const delimiter = scalarText(this.value(args[0]!, at), 'Fn::Join delimiter', at);
        return listOf(this.value(args[1]!, at), 'Fn::Join values', at).map((item) => scalarText(item, 'Fn::Join value', at)).join(delimiter);
      }
      case 'Fn::Select': {
        const args = listOf(argument, 'Fn::Select', at);
        if (args.length !== 2) throw new ResolveError('Fn::Select must be [Index, [Values]]', at);
        const index = Number(scalarText(this.value(args[0]!, at), 'Fn::Select index', at));
        const list = listOf(this.value(args[1]!, at), 'Fn::Select values', at);
        if (!Number.isInteger(index) || index < 0 || index >= list.length) throw new ResolveError(`Fn::Select index ${index} is outside the list of ${list.length}`, at);
        return list[index]!;
      }
      case 'Fn::Split': {
        const args = listOf(argument, 'Fn::Split', at);
        if (args.length !== 2) throw new ResolveError('Fn::Split must be [Delimiter, String]', at);
        const delimiter = scalarText(this.value(args[0]!, at), 'Fn::Split delimiter', at);
        return scalarText(this.value(args[1]!, at), 'Fn::Split source', at).split(delimiter);
      }
      case 'Fn::FindInMap': {
        const args = listOf(argument, 'Fn::FindInMap', at).map((item) => scalarText(this.value(item, at), 'Fn::FindInMap key', at));
        const [map, top, second] = args;
        const level1 = this.template.mappings[map ?? ''];
        const level2 = isSourceMap(level1) ? level1[top ?? ''] : undefined;
        const found = isSourceMap(level2) ? level2[second ?? ''] : undefined;
        if (found === undefined) throw new ResolveError(`Fn::FindInMap: Mappings has no ${args.slice(0, 3).join(' > ')}`, at);
        return found;
      }
      case 'Fn::ImportValue': {
        const exportName = scalarText(this.value(argument, at), 'Fn::ImportValue', at);
        const exported = this.exports.exportValue(exportName, at) ?? this.overrides.lookup(this.template.file, exportName);
        if (exported === undefined) {
          throw new ResolveError(`Fn::ImportValue ${exportName}: no template given exports it; import the template that does in the same run${this.exports.unresolvedExports > 0 ? ' (an export name of a given template could not be resolved: see its error)' : ''}, or ${this.hint(exportName)}`, at);
        }
        return exported;
      }
      case 'Fn::Equals': case 'Fn::Not': case 'Fn::And': case 'Fn::Or':
        return this.evaluate({ [name]: argument }, at);
      default:
        throw new ResolveError(`${name} is not supported by meshd import (App Mesh resources do not need it); replace it with a value`, at);
    }
  }

  private ref(name: string, path: string): Resolved {
    if (name === 'AWS::NoValue') return NO_VALUE;
    const parameter = this.template.parameters[name];
    if (parameter !== undefined) return this.parameter(name, parameter, path);
    const override = this.overrides.lookup(this.template.file, name);
    if (override !== undefined) return override;
    if (fixedPseudo[name] !== undefined) return fixedPseudo[name]!;
    if (stackPseudo.has(name)) throw new ResolveError(`${name} is known only to a deployed stack; ${this.hint(name)}`, path);
    const resource = this.template.resources[name];
    if (resource === undefined) throw new ResolveError(`Ref ${name}: no parameter, pseudo parameter or resource of that name`, path);
    if (appMeshTypes[resource.type] !== undefined) return this.arnOf(name, path);
    throw new ResolveError(`Ref ${name}: ${resource.type} is not imported, so its value is unknown; ${this.hint(name)}`, path);
  }

  private parameter(name: string, declaration: SourceMap, path: string): SourceValue {
    const given = this.overrides.lookup(this.template.file, name);
    const raw = given ?? declaration.Default;
    if (raw === undefined || raw === null) throw new ResolveError(`parameter ${name} has no Default; ${this.hint(name)}`, path);
    const text = typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : raw;
    const allowed = declaration.AllowedValues;
    if (typeof text === 'string' && Array.isArray(allowed) && !allowed.map(String).includes(text)) {
      throw new ResolveError(`parameter ${name} is ${JSON.stringify(text)}, not one of its AllowedValues (${allowed.map(String).join(', ')})`, path);
    }
    const type = typeof declaration.Type === 'string' ? declaration.Type : 'String';
    if (typeof text === 'string' && (type === 'CommaDelimitedList' || type.startsWith('List<'))) return text.split(',').map((item) => item.trim());
    return text;
  }

  private getAtt(logicalId: string, attribute: string, path: string): SourceValue {
    const override = this.overrides.lookup(this.template.file, `${logicalId}.${attribute}`);
    if (override !== undefined) return override;
    const resource = this.template.resources[logicalId];
    if (resource === undefined) throw new ResolveError(`Fn::GetAtt ${logicalId}.${attribute}: no resource ${logicalId} in this template`, path);
    if (appMeshTypes[resource.type] === undefined) {
      throw new ResolveError(`Fn::GetAtt ${logicalId}.${attribute}: ${resource.type} is not imported, so its attributes are unknown; ${this.hint(`${logicalId}.${attribute}`)}`, path);
    }
    const names = this.namesOfReferenced(logicalId, path);
    const named = nameAttribute(names, attribute);
    if (named !== undefined) return named;
    if (attribute === 'Arn') return this.arnOf(logicalId, path);
    if (attribute === 'MeshOwner' || attribute === 'ResourceOwner') return scalarText(this.ref('AWS::AccountId', path), attribute, path);
    throw new ResolveError(`Fn::GetAtt ${logicalId}.${attribute}: known only to a deployed stack; ${this.hint(`${logicalId}.${attribute}`)}`, path);
  }

  private arnOf(logicalId: string, path: string): string {
    const names = this.namesOfReferenced(logicalId, path);
    const region = scalarText(this.ref('AWS::Region', path), 'AWS::Region', path);
    const account = scalarText(this.ref('AWS::AccountId', path), 'AWS::AccountId', path);
    const partition = scalarText(this.ref('AWS::Partition', path), 'AWS::Partition', path);
    return `arn:${partition}:appmesh:${region}:${account}:${arnResourcePath(names)}`;
  }

  /** `namesOf` for a reference from elsewhere: a failure is reported where the reference is. */
  private namesOfReferenced(logicalId: string, path: string): AppMeshNames {
    try {
      return this.namesOf(logicalId, path);
    } catch (error) {
      if (!(error instanceof ResolveError) || this.inProgress.size > 0) throw error;
      throw new ResolveError(`${logicalId}'s names cannot be resolved (its ${error.path.replace(/^Properties\./, '')}: ${error.message})`, path);
    }
  }

  /** The mesh, own and parent names of an App Mesh resource (the logical ID where the name is omitted). */
  namesOf(logicalId: string, path: string): AppMeshNames {
    const known = this.names.get(logicalId);
    if (known) return known;
    const resource = this.template.resources[logicalId]!;
    const type = appMeshTypes[resource.type]!;
    if (this.inProgress.has(logicalId)) throw new ResolveError(`the names of ${logicalId} refer to themselves`, path);
    this.inProgress.add(logicalId);
    try {
      const text = (property: string, fallback?: string): string => {
        const value = resource.properties[property];
        if (value === undefined) {
          if (fallback !== undefined) return fallback;
          throw new ResolveError(`${logicalId} has no ${property}`, `Properties.${property}`);
        }
        return scalarText(this.value(value, `Properties.${property}`), property, `Properties.${property}`);
      };
      const meshName = type.kind === 'Mesh' ? text('MeshName', logicalId) : text('MeshName');
      const name = type.kind === 'Mesh' ? meshName : text(type.nameProperty, logicalId);
      const names: AppMeshNames = { type, meshName, name, ...(type.parentProperty ? { parentName: text(type.parentProperty) } : {}) };
      this.names.set(logicalId, names);
      return names;
    } finally {
      this.inProgress.delete(logicalId);
    }
  }

  private sub(argument: SourceValue, path: string): string {
    const [body, variables] = Array.isArray(argument) ? [argument[0], argument[1]] : [argument, undefined];
    const text = scalarText(body ?? null, 'Fn::Sub', path);
    const given = isSourceMap(variables) ? variables : {};
    return text.replace(/\$\{(!?)([^}]*)\}/g, (_whole, literal: string, name: string) => {
      if (literal === '!') return `\${${name}}`;
      const key = name.trim();
      if (key in given) return scalarText(this.value(given[key]!, `${path}.${key}`), key, path);
      if (key.includes('.') && !key.startsWith('AWS::')) {
        const [logicalId, attribute] = key.split(/\.(.*)/s);
        return scalarText(this.getAtt(logicalId!, attribute!, path), key, path);
      }
      return scalarText(this.ref(key, path), key, path);
    });
  }

  /** Evaluate a named condition of Conditions (each once). */
  condition(name: string, path: string): boolean {
    const known = this.conditionValues.get(name);
    if (known !== undefined) return known;
    const definition = this.template.conditions[name];
    if (definition === undefined) throw new ResolveError(`condition ${name} is not in Conditions`, path);
    if (this.inProgress.has(`condition:${name}`)) throw new ResolveError(`condition ${name} refers to itself`, path);
    this.inProgress.add(`condition:${name}`);
    try {
      const value = this.evaluate(definition, `Conditions.${name}`);
      this.conditionValues.set(name, value);
      return value;
    } finally {
      this.inProgress.delete(`condition:${name}`);
    }
  }

  private evaluate(expression: SourceValue, path: string): boolean {
    if (typeof expression === 'boolean') return expression;
    if (!isSourceMap(expression) || Object.keys(expression).length !== 1) throw new ResolveError(`a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition (found ${describe(expression)})`, path);
    const [name, argument] = Object.entries(expression)[0]!;
    const at = `${path}.${name}`;
    switch (name) {
      case 'Condition': return this.condition(scalarText(argument, 'Condition', at), at);
      case 'Fn::Equals': {
        const args = listOf(argument, 'Fn::Equals', at);
        if (args.length !== 2) throw new ResolveError('Fn::Equals must be [Value1, Value2]', at);
        const [a, b] = args.map((item) => this.value(item, at));
        return JSON.stringify(typeof a === 'number' || typeof a === 'boolean' ? String(a) : a) === JSON.stringify(typeof b === 'number' || typeof b === 'boolean' ? String(b) : b);
      }
      case 'Fn::Not': {
        const args = listOf(argument, 'Fn::Not', at);
        if (args.length !== 1) throw new ResolveError('Fn::Not must be [Condition]', at);
        return !this.evaluate(args[0]!, at);
      }
      case 'Fn::And': return listOf(argument, 'Fn::And', at).every((item) => this.evaluate(item, at));
      case 'Fn::Or': return listOf(argument, 'Fn::Or', at).some((item) => this.evaluate(item, at));
      default: {
        const value = this.resolve(expression, path);
        if (value === 'true' || value === true) return true;
        if (value === 'false' || value === false) return false;
        throw new ResolveError(`a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition (found ${name})`, path);
      }
    }
  }
}
