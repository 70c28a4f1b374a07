// From the text of one spec file to validated resources: YAML (multi-document) or JSON, each
// document in one of three shapes (meshd's `kind` form, create-* CLI input, describe-* output),
// validated by the kind's schema. Pure: no I/O, so tests feed it strings. Bounded: a file over the
// document limit or a document over the alias limit is an error, never an exception.
import { Composer, LineCounter, Parser, parseDocument, type Document, type YAMLError } from 'yaml';
import { issueMessages, type SpecError } from './errors';
import { nameFieldOf, resourceKinds, resourceSchemas, type Resource, type ResourceKind } from './resource-schema';
import { orList } from './common-schema';
import { salvage } from './salvage';
import { DEFAULT_SPEC_LIMITS, SPEC_LIMIT_FLAGS, type SpecLimits } from './limits';

/** A resource that has a kind and names but failed validation: references to it are not "missing". */
export interface DeclaredResource {
  readonly kind: ResourceKind;
  readonly meshName: string;
  readonly name: string;
  /** What passes the schema once the refused parts are removed, for the model's own checks (never served). */
  readonly partial?: Resource;
}

/** What one file held. */
export interface ParsedFile {
  readonly resources: Resource[];
  /** Resources that could be named but are invalid (their errors are in `errors`). */
  readonly invalid: DeclaredResource[];
  readonly errors: SpecError[];
}

// describe-* prints `{"virtualNode": {...}}`: the wrapper key says the kind.
const describeWrappers: Readonly<Record<string, ResourceKind>> = {
  mesh: 'Mesh',
  virtualNode: 'VirtualNode',
  virtualGateway: 'VirtualGateway',
  virtualService: 'VirtualService',
  virtualRouter: 'VirtualRouter',
  route: 'Route',
  gatewayRoute: 'GatewayRoute',
};

// create-* input has no kind: the most specific name field present says it (a Route also names
// its router, a GatewayRoute its gateway, everything its mesh).
const inferenceOrder: readonly ResourceKind[] = [
  'GatewayRoute', 'Route', 'VirtualNode', 'VirtualGateway', 'VirtualRouter', 'VirtualService', 'Mesh',
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Shaped =
  | { kind: ResourceKind; body: Record<string, unknown> }
  | { error: { path?: string; message: string }; namedAs?: ResourceKind };

/** The kind whose name field is the most specific one present. */
function kindFromNameFields(value: Record<string, unknown>): ResourceKind | undefined {
  return inferenceOrder.find((kind) => nameFieldOf[kind] in value);
}

/** Recognize which of the accepted shapes a document is in, and bring it to the `kind` form. */
function shapeOf(value: unknown): Shaped {
  if (!isRecord(value)) return { error: { message: 'must be a mapping with kind, name fields and spec' } };
  if ('kind' in value) {
    const kind = value.kind;
    if (typeof kind !== 'string' || !(resourceKinds as readonly string[]).includes(kind)) {
      // The name fields still say which resource this is: name it, so the error can be found.
      const namedAs = kindFromNameFields(value);
      const error = { path: 'kind', message: `must be ${orList([...resourceKinds])} (found ${JSON.stringify(kind)})` };
      return namedAs === undefined ? { error } : { error, namedAs };
    }
    return { kind: kind as ResourceKind, body: value };
  }
  const keys = Object.keys(value);
  const wrapper = keys.length === 1 ? describeWrappers[keys[0]!] : undefined;
  if (wrapper !== undefined && isRecord(value[keys[0]!])) {
    // describe-* output: metadata and status describe App Mesh's copy, not the desired state.
    const { metadata: _metadata, status: _status, ...rest } = value[keys[0]!] as Record<string, unknown>;
    return { kind: wrapper, body: { kind: wrapper, ...rest } };
  }
  const inferred = kindFromNameFields(value);
  if (inferred === undefined) {
    return { error: { path: 'kind', message: 'is required (or a name field such as virtualNodeName to infer it from)' } };
  }
  return { kind: inferred, body: { kind: inferred, ...value } };
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Validate one document; `position` is its 1-based place in the file, for unnamed resources. */
export function validateDocument(file: string, index: number, value: unknown): ParsedFile {
  const shaped = shapeOf(value);
  if ('error' in shaped) {
    const { namedAs } = shaped;
    const record = isRecord(value) ? value : {};
    const name = namedAs !== undefined ? nonEmptyString(record[nameFieldOf[namedAs]]) : undefined;
    if (namedAs === undefined || name === undefined) {
      return { resources: [], invalid: [], errors: [{ file, resource: `document ${index + 1}`, ...shaped.error }] };
    }
    // Named by the kind as written (`VirtualNodee green`), declared by the kind its name field
    // implies so that references to it are not reported as missing as well.
    const meshName = nonEmptyString(record.meshName);
    const invalid = meshName !== undefined ? [{ kind: namedAs, meshName, name }] : [];
    const written = nonEmptyString(record.kind) ?? namedAs;
    return { resources: [], invalid, errors: [{ file, resource: `${written} ${name}`, ...shaped.error }] };
  }
  const { kind, body } = shaped;
  const name = nonEmptyString(body[nameFieldOf[kind]]);
  const label = name !== undefined ? `${kind} ${name}` : `${kind} (document ${index + 1})`;
  const result = resourceSchemas[kind].safeParse(body, { reportInput: true });
  if (result.success) {
    return { resources: [{ ...result.data, source: { file, index } } as Resource], invalid: [], errors: [] };
  }
  const errors: SpecError[] = result.error.issues.flatMap((issue) =>
    issueMessages(issue).map(({ path, message }) => ({ file, resource: label, ...(path ? { path } : {}), message })));
  const meshName = nonEmptyString(body.meshName);
  const salvaged = name !== undefined && meshName !== undefined ? salvage(resourceSchemas[kind], body, result.error.issues) : undefined;
  const partial = salvaged !== undefined ? { partial: { ...(salvaged as object), source: { file, index } } as Resource } : {};
  const invalid = name !== undefined && meshName !== undefined ? [{ kind, meshName, name, ...partial }] : [];
  return { resources: [], invalid, errors };
}

/** Collects what the documents of one file hold, appending item by item (a file may hold thousands). */
class FileCollector implements ParsedFile {
  readonly resources: Resource[] = [];
  readonly invalid: DeclaredResource[] = [];
  readonly errors: SpecError[] = [];

  add(part: ParsedFile): void {
    for (const resource of part.resources) this.resources.push(resource);
    for (const declared of part.invalid) this.invalid.push(declared);
    for (const error of part.errors) this.errors.push(error);
  }
}

// A JSON file or YAML document may hold one resource or a list of them.
function validateValue(into: FileCollector, file: string, firstIndex: number, value: unknown): void {
  if (!Array.isArray(value)) {
    into.add(validateDocument(file, firstIndex, value));
    return;
  }
  value.forEach((item: unknown, offset) => into.add(validateDocument(file, firstIndex + offset, item)));
}

/** The whole file is refused when it holds more documents than the limit: nothing of it is used. */
function tooManyDocuments(file: string, limits: SpecLimits): ParsedFile {
  return {
    resources: [],
    invalid: [],
    errors: [{ file, message: `holds more than ${limits.maxDocuments} documents (${SPEC_LIMIT_FLAGS.maxDocuments}); none of them was read` }],
  };
}

function yamlErrorMessage(message: string): string {
  // yaml appends " at line N, column M:" and a code frame; the line is reported separately.
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function syntaxErrors(file: string, errors: readonly YAMLError[], lineCounter: LineCounter): SpecError[] {
  return errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return { file, line, column: col, message: `YAML syntax error: ${yamlErrorMessage(error.message)}` };
  });
}

/** A document's value, or the error that stands for it (an alias bomb is refused, not thrown). */
function documentValue(file: string, index: number, document: Document.Parsed, limits: SpecLimits): { value: unknown } | { error: SpecError } {
  try {
    return { value: document.toJS({ maxAliasCount: limits.maxAliases }) };
  } catch (error) {
    // yaml throws a ReferenceError when expansions pass the limit ("Excessive alias count ...", or
    // "Alias resolution is disabled" when the limit is 0), and another for an alias without anchor.
    const text = error instanceof Error ? error.message : String(error);
    const message = /^(Excessive alias count|Alias resolution is disabled)/.test(text)
      ? `expands YAML aliases more than ${limits.maxAliases} times (${SPEC_LIMIT_FLAGS.maxAliases}); refused as a possible alias bomb`
      : `YAML error: ${text}`;
    return { error: { file, resource: `document ${index + 1}`, message } };
  }
}

function parseYaml(file: string, text: string, limits: SpecLimits): ParsedFile {
  const lineCounter = new LineCounter();
  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer();
  const collected = new FileCollector();
  let index = 0;
  // Documents are composed one at a time, so a file over the document limit is abandoned at the
  // first document past it instead of being held in memory whole.
  for (const document of composer.compose(parser.parse(text))) {
    if (index >= limits.maxDocuments) return tooManyDocuments(file, limits);
    if (document.errors.length > 0) {
      collected.add({ resources: [], invalid: [], errors: syntaxErrors(file, document.errors, lineCounter) });
      index += 1;
      continue;
    }
    const read = documentValue(file, index, document, limits);
    if ('error' in read) {
      collected.add({ resources: [], invalid: [], errors: [read.error] });
      index += 1;
      continue;
    }
    const { value } = read;
    const count = Array.isArray(value) ? value.length : 1;
    if (index + count > limits.maxDocuments) return tooManyDocuments(file, limits);
    // An empty document (a trailing `---`, a file of comments) holds no resource.
    if (value !== null && value !== undefined) validateValue(collected, file, index, value);
    index += count;
  }
  return collected;
}

function parseJson(file: string, text: string, limits: SpecLimits): ParsedFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // JSON.parse does not say where (Node 20); YAML's flow parser finds the same spot with a line.
    const located = parseDocument(text, { lineCounter: new LineCounter() }).errors[0];
    const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    return {
      resources: [],
      invalid: [],
      errors: [{
        file,
        ...(located?.linePos ? { line: located.linePos[0].line, column: located.linePos[0].col } : {}),
        message: `JSON syntax error: ${located ? yamlErrorMessage(located.message) : reason}`,
      }],
    };
  }
  if (Array.isArray(value) && value.length > limits.maxDocuments) return tooManyDocuments(file, limits);
  const collected = new FileCollector();
  validateValue(collected, file, 0, value);
  return collected;
}

/** Parse and validate the text of one file; `.json` files are JSON, everything else YAML. */
export function parseSpecText(file: string, text: string, limits: SpecLimits = DEFAULT_SPEC_LIMITS): ParsedFile {
  return file.toLowerCase().endsWith('.json') ? parseJson(file, text, limits) : parseYaml(file, text, limits);
}
