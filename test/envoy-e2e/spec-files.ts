// Editing a copy of a mesh spec directory the way an operator would: find a resource by kind and
// name in whichever file holds it, change it, write the file back (atomically, so meshd's watcher
// never reads half a file). YAML edits go through yaml's Document API so comments survive; JSON
// files (the `aws appmesh ... --cli-input-json` shape) are written back as JSON.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, type Document } from 'yaml';

/** A resource's kind as the spec names it. */
export type ResourceKind = 'Mesh' | 'VirtualNode' | 'VirtualGateway' | 'VirtualService' | 'VirtualRouter' | 'Route' | 'GatewayRoute';

// Name field per kind, and the wrapper key `describe-*` output uses.
const NAME_FIELDS: ReadonlyArray<[ResourceKind, string, string]> = [
  ['VirtualNode', 'virtualNodeName', 'virtualNode'],
  ['VirtualGateway', 'virtualGatewayName', 'virtualGateway'],
  ['VirtualService', 'virtualServiceName', 'virtualService'],
  ['Route', 'routeName', 'route'],
  ['GatewayRoute', 'gatewayRouteName', 'gatewayRoute'],
  ['VirtualRouter', 'virtualRouterName', 'virtualRouter'],
  ['Mesh', 'meshName', 'mesh'],
];

/** Where one resource lives: its file, its document, and the path prefix of its fields. */
export interface LocatedResource {
  file: string;
  kind: ResourceKind;
  name: string;
  doc: Document;
  /** `[]` for a plain resource, `['virtualNode']` for describe-style JSON. */
  prefix: string[];
}

type Plain = Record<string, unknown>;

function identify(value: unknown): { kind: ResourceKind; name: string; prefix: string[] } | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const record = value as Plain;
  for (const [kind, nameField, wrapper] of NAME_FIELDS) {
    const inner = record[wrapper];
    if (inner && typeof inner === 'object' && typeof (inner as Plain)[nameField] === 'string') {
      return { kind, name: (inner as Plain)[nameField] as string, prefix: [wrapper] };
    }
  }
  const declared = typeof record.kind === 'string' ? record.kind as ResourceKind : undefined;
  for (const [kind, nameField] of NAME_FIELDS) {
    if ((declared === undefined || declared === kind) && typeof record[nameField] === 'string') {
      return { kind, name: record[nameField] as string, prefix: [] };
    }
  }
  return undefined;
}

/** A spec directory opened for editing; call save() to write changed files. */
export class SpecFiles {
  private readonly docs = new Map<string, Document[]>();
  private readonly changed = new Set<string>();

  constructor(readonly dir: string) {
    for (const name of fs.readdirSync(dir).filter((n) => /\.(ya?ml|json)$/i.test(n) && !n.startsWith('.')).sort()) {
      const text = fs.readFileSync(path.join(dir, name), 'utf8');
      const docs = parseAllDocuments(text);
      if (!Array.isArray(docs)) throw new Error(`${path.join(dir, name)}: not a YAML/JSON stream`);
      for (const doc of docs) {
        if (doc.errors.length > 0) throw new Error(`${path.join(dir, name)}: ${doc.errors[0]!.message}`);
      }
      this.docs.set(name, docs);
    }
  }

  /** Every resource, in file then document order. */
  resources(): LocatedResource[] {
    const out: LocatedResource[] = [];
    for (const [file, docs] of this.docs) {
      for (const doc of docs) {
        const id = identify(doc.toJS());
        if (id) out.push({ file, doc, ...id });
      }
    }
    return out;
  }

  find(kind: ResourceKind, name: string): LocatedResource {
    const found = this.resources().find((r) => r.kind === kind && r.name === name);
    if (!found) throw new Error(`${this.dir}: no ${kind} named ${name}`);
    return found;
  }

  /** The resource's value at a path below it (e.g. `['spec', 'listeners', 0, 'tls']`). */
  get(resource: LocatedResource, at: ReadonlyArray<string | number>): unknown {
    const node = resource.doc.getIn([...resource.prefix, ...at]);
    return node && typeof node === 'object' && 'toJSON' in node ? (node as { toJSON(): unknown }).toJSON() : node;
  }

  /** Sets (or, with `undefined`, deletes) a value at a path below the resource. */
  set(resource: LocatedResource, at: ReadonlyArray<string | number>, value: unknown): void {
    const full = [...resource.prefix, ...at];
    if (value === undefined) resource.doc.deleteIn(full);
    else resource.doc.setIn(full, resource.doc.createNode(value));
    this.changed.add(resource.file);
  }

  /** Shorthand: find + set. */
  edit(kind: ResourceKind, name: string, at: ReadonlyArray<string | number>, value: unknown): void {
    this.set(this.find(kind, name), at, value);
  }

  /** Writes one file from documents, JSON for `.json` files. */
  private render(file: string): string {
    const docs = this.docs.get(file)!;
    if (/\.json$/i.test(file)) return `${JSON.stringify(docs[0]!.toJS(), null, 2)}\n`;
    // A document that was introduced by `---` prints its own marker; the others need one between.
    return docs.map((doc, i) => {
      const text = doc.toString({ lineWidth: 0 });
      return i === 0 || text.startsWith('---') ? text : `---\n${text}`;
    }).join('');
  }

  /** Writes every changed file atomically (temp file in the same directory, then rename). */
  save(): string[] {
    const written = [...this.changed];
    for (const file of written) {
      const target = path.join(this.dir, file);
      // A dot-file: meshd does not read it even if it sees it before the rename.
      const temp = path.join(this.dir, `.${file}.${process.pid}.tmp`);
      fs.writeFileSync(temp, this.render(file));
      fs.renameSync(temp, target);
    }
    this.changed.clear();
    return written;
  }
}
