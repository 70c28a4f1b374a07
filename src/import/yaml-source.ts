// Reading import inputs (CloudFormation templates, Kubernetes manifests) from YAML or JSON text into
// plain values. CloudFormation's short-form tags (`!Ref X`, `!If [...]`) are registered with the
// yaml package as custom tags, so they parse without warnings, and the walk below turns each tagged
// node into the long form (`{ Ref: X }`, `{ 'Fn::If': [...] }`) the resolver works on. The walk
// also reports every string with its line, which is how template leftovers are located.
import { LineCounter, YAMLMap, YAMLSeq, isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Node, type ScalarTag, type CollectionTag } from 'yaml';

/** A value read from a template or manifest: what YAML and JSON can hold. */
export type SourceValue = null | boolean | number | string | SourceValue[] | { [key: string]: SourceValue };

/** A mapping of source values. */
export type SourceMap = { [key: string]: SourceValue };

/** True for a mapping (not a list, not null). */
export function isSourceMap(value: unknown): value is SourceMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The short-form tags CloudFormation defines, and the long-form key each stands for. */
const shortFormTags: Readonly<Record<string, string>> = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  ...Object.fromEntries(['Sub', 'GetAtt', 'If', 'Join', 'Select', 'Split', 'Equals', 'Not', 'And', 'Or', 'FindInMap',
    'ImportValue', 'Base64', 'Cidr', 'GetAZs', 'Length', 'ToJsonString', 'Transform'].map((name) => [`!${name}`, `Fn::${name}`])),
};

// Each tag may stand on a scalar, a sequence or a mapping; the node is kept as it is and the walk
// reads its tag.
const customTags: Array<ScalarTag | CollectionTag> = Object.keys(shortFormTags).flatMap((tag) => [
  { tag, resolve: (text: string) => text },
  { tag, collection: 'seq' as const, nodeClass: YAMLSeq, resolve: (node: YAMLMap.Parsed | YAMLSeq.Parsed) => node },
  { tag, collection: 'map' as const, nodeClass: YAMLMap, resolve: (node: YAMLMap.Parsed | YAMLSeq.Parsed) => node },
]);

/** One document of a file. */
export interface SourceDocument {
  readonly value: SourceValue;
  /** 1-based line where the document starts. */
  readonly line: number;
}

/** A string found in the input and the line it is on, for errors about values. */
export interface LocatedString {
  readonly value: string;
  readonly line: number;
}

/** What reading a file gave: its documents, every string with its line, or a syntax error. */
export type ReadResult =
  | { readonly ok: true; readonly documents: SourceDocument[]; readonly strings: LocatedString[] }
  | { readonly ok: false; readonly line?: number; readonly message: string };

interface ReadOptions {
  /** Turn CloudFormation short-form tags into the long form (for templates). */
  readonly shortForms: boolean;
  /** Largest number of alias expansions allowed in one document (alias bombs). */
  readonly maxAliases: number;
}

/** Parse YAML (JSON is YAML) into plain values, keeping tags as CloudFormation's long form. */
export function readSource(text: string, options: ReadOptions): ReadResult {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, customTags: options.shortForms ? customTags : [], uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(documents)) return { ok: true, documents: [], strings: [] };
  const strings: LocatedString[] = [];
  const out: SourceDocument[] = [];
  for (const document of documents) {
    const error = document.errors[0];
    if (error) return { ok: false, line: lineCounter.linePos(error.pos[0]).line, message: error.message.split('\n')[0]! };
    let aliases = 0;
    const lineOf = (node: Node): number => lineCounter.linePos(node.range?.[0] ?? 0).line;
    const walk = (node: unknown): SourceValue => {
      if (isAlias(node)) {
        aliases += 1;
        if (aliases > options.maxAliases) throw new AliasLimitError(lineOf(node));
        return walk(node.resolve(document));
      }
      let value: SourceValue;
      if (isScalar(node)) {
        const raw = node.value;
        value = typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? raw : raw === null || raw === undefined ? null : String(raw);
        if (typeof value === 'string') strings.push({ value, line: lineOf(node) });
      } else if (isMap(node)) {
        const map: SourceMap = {};
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
          map[key] = walk(pair.value);
        }
        value = map;
      } else if (isSeq(node)) {
        value = node.items.map(walk);
      } else {
        return null;
      }
      const tag = (node as Node).tag;
      const longForm = options.shortForms && tag !== undefined ? shortFormTags[tag] : undefined;
      // `!GetAtt A.B` is the one short form whose scalar means a list.
      if (longForm === 'Fn::GetAtt' && typeof value === 'string') return { [longForm]: value.split(/\.(.*)/s).filter((part) => part !== '') };
      return longForm === undefined ? value : { [longForm]: value };
    };
    try {
      out.push({ value: walk(document.contents), line: document.contents ? lineOf(document.contents as Node) : 1 });
    } catch (error) {
      if (error instanceof AliasLimitError) return { ok: false, line: error.line, message: `expands YAML aliases more than ${options.maxAliases} times` };
      throw error;
    }
  }
  return { ok: true, documents: out, strings };
}

class AliasLimitError extends Error {
  constructor(readonly line: number) {
    super('alias limit');
  }
}
