// App Mesh's own service model (2019-01-25), read at load time from dist/api-model/, where the
// build copies it from the pinned `aws-sdk` package (`apis/appmesh-2019-01-25.min.json`, the JSON
// model the SDKs are generated from; scripts/extract-api-model.js), so the routes, members,
// locations and output shapes are App Mesh's and not a copy kept in this tree.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A shape as the model writes it: inline, or a reference to a named shape. */
export interface ModelShape {
  readonly shape?: string;
  readonly type?: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'double' | 'boolean' | 'timestamp' | 'blob';
  readonly members?: Readonly<Record<string, ModelShape>>;
  readonly member?: ModelShape;
  readonly value?: ModelShape;
  readonly required?: readonly string[];
  readonly location?: 'uri' | 'querystring' | 'header' | 'headers';
  readonly locationName?: string;
  readonly idempotencyToken?: boolean;
  readonly payload?: string;
}

interface ModelOperation {
  readonly http: { readonly method: string; readonly requestUri: string; readonly responseCode?: number };
  readonly input?: ModelShape;
  readonly output?: ModelShape;
}

interface ServiceModelFile {
  readonly metadata: { readonly apiVersion: string; readonly signingName: string; readonly protocol: string };
  readonly operations: Readonly<Record<string, ModelOperation>>;
  readonly shapes: Readonly<Record<string, ModelShape>>;
}

interface PaginatorsFile {
  readonly pagination: Readonly<Record<string, { readonly result_key: string; readonly limit_key: string; readonly input_token: string }>>;
}

/** Where an input member travels. */
export interface InputMember {
  readonly name: string;
  readonly location: 'uri' | 'querystring' | 'body';
  /** Its name on the wire (path label or query parameter). */
  readonly wireName: string;
  readonly shape: ModelShape;
  readonly idempotencyToken: boolean;
}

/** One operation of the API, ready for routing. */
export interface ApiOperation {
  readonly name: string;
  readonly method: string;
  readonly requestUri: string;
  readonly responseCode: number;
  /** Matches a request path; groups are the path labels, in `labels` order. */
  readonly pattern: RegExp;
  readonly labels: readonly string[];
  readonly members: readonly InputMember[];
  readonly required: readonly string[];
  /** The output structure (its members are what a response may carry). */
  readonly output: ModelShape;
  /** List operations: the member holding the page of results. */
  readonly resultKey?: string;
  /** Describe and List change nothing; everything else is a write. */
  readonly readOnly: boolean;
}

export interface ServiceModel {
  readonly apiVersion: string;
  readonly signingName: string;
  readonly operations: ReadonlyMap<string, ApiOperation>;
  /** Resolves a shape reference to the shape it names. */
  resolve(shape: ModelShape): ModelShape;
}

/** dist/api-model/, beside the compiled sources (this file is dist/src/api/service-model.js). */
const MODEL_DIR = path.resolve(__dirname, '..', '..', 'api-model');

function readModelFile(file: string): unknown {
  const full = path.join(MODEL_DIR, file);
  try {
    return JSON.parse(fs.readFileSync(full, 'utf8')) as unknown;
  } catch (err) {
    throw new Error(`the App Mesh API model ${full} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): run \`npm run build\`, which copies it from the aws-sdk package`);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compileUri(requestUri: string): { pattern: RegExp; labels: string[] } {
  const labels: string[] = [];
  const source = requestUri.split(/(\{[^}]+\})/).map((part) => {
    const label = /^\{([^}+]+)\+?\}$/.exec(part);
    if (!label) return escapeRegExp(part);
    labels.push(label[1]!);
    return '([^/]+)';
  }).join('');
  return { pattern: new RegExp(`^${source}$`), labels };
}

/** Builds the operation table from a model and its paginators. */
export function buildServiceModel(file: ServiceModelFile, paginators: PaginatorsFile): ServiceModel {
  const resolve = (shape: ModelShape): ModelShape => (shape.shape !== undefined ? { ...file.shapes[shape.shape]!, ...withoutRef(shape) } : shape);
  const operations = new Map<string, ApiOperation>();
  for (const [name, operation] of Object.entries(file.operations)) {
    const input = resolve(operation.input ?? { type: 'structure', members: {} });
    const members: InputMember[] = Object.entries(input.members ?? {}).map(([member, shape]) => ({
      name: member,
      location: shape.location === 'uri' || shape.location === 'querystring' ? shape.location : 'body',
      wireName: shape.locationName ?? member,
      shape,
      idempotencyToken: shape.idempotencyToken === true,
    }));
    const { pattern, labels } = compileUri(operation.http.requestUri);
    const resultKey = paginators.pagination[name]?.result_key;
    operations.set(name, {
      name,
      method: operation.http.method,
      requestUri: operation.http.requestUri,
      responseCode: operation.http.responseCode ?? 200,
      pattern,
      labels,
      members,
      required: input.required ?? [],
      output: resolve(operation.output ?? { type: 'structure', members: {} }),
      ...(resultKey ? { resultKey } : {}),
      readOnly: /^(Describe|List)/.test(name),
    });
  }
  return { apiVersion: file.metadata.apiVersion, signingName: file.metadata.signingName, operations, resolve };
}

function withoutRef(shape: ModelShape): ModelShape {
  const { shape: _ref, ...rest } = shape;
  return rest;
}

let loaded: ServiceModel | undefined;

/** App Mesh 2019-01-25 as the pinned aws-sdk package ships it. */
export function appMeshModel(): ServiceModel {
  loaded ??= buildServiceModel(
    readModelFile('appmesh-2019-01-25.min.json') as ServiceModelFile,
    readModelFile('appmesh-2019-01-25.paginators.json') as PaginatorsFile,
  );
  return loaded;
}

/** Keeps only what the model says a value of `shape` has (recursively), so responses carry App Mesh's members and no others. */
export function project(model: ServiceModel, shape: ModelShape, value: unknown): unknown {
  const resolved = model.resolve(shape);
  if (value === undefined || value === null) return undefined;
  switch (resolved.type) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) return undefined;
      const out: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(resolved.members ?? {})) {
        const projected = project(model, member, (value as Record<string, unknown>)[name]);
        if (projected !== undefined) out[name] = projected;
      }
      return out;
    }
    case 'list':
      return Array.isArray(value) ? value.map((item) => project(model, resolved.member!, item)) : undefined;
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return undefined;
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, project(model, resolved.value!, v)]));
    }
    default:
      return value;
  }
}
