// The App Mesh controller's resources read from manifests: YAML files of one or more documents, or
// what `kubectl get … -o yaml` prints (a `List` of items). Namespaces are kept for the mesh
// membership their labels decide. Template leftovers (`${VAR}`, `{{ .Values.x }}`, `<placeholder>`)
// are errors with file and line: a value a templating step was meant to fill in is never imported.
import type { SpecError } from '../spec/errors';
import type { InputFile } from './input-files';
import { isSourceMap, readSource, type SourceMap, type SourceValue } from './yaml-source';

export const APP_MESH_API_VERSION = 'appmesh.k8s.aws/v1beta2';
export const appMeshKinds = ['Mesh', 'VirtualNode', 'VirtualService', 'VirtualRouter', 'VirtualGateway', 'GatewayRoute', 'BackendGroup'] as const;
export type AppMeshKind = (typeof appMeshKinds)[number];

/** One controller resource. */
export interface K8sObject {
  readonly kind: AppMeshKind;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: SourceMap;
  /** The file it was read from, and the line its document (or list) starts on. */
  readonly file: string;
  readonly line: number;
}

/** What the manifests held. */
export interface Manifests {
  readonly objects: K8sObject[];
  /** Labels of the Namespace objects given, by name. */
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Count of other objects (Deployments, Services…), by kind. */
  readonly others: ReadonlyMap<string, number>;
  readonly errors: SpecError[];
  readonly warnings: SpecError[];
}

const leftoverPatterns: ReadonlyArray<[RegExp, string]> = [
  [/\$\{[^}]*\}/, 'a ${VAR} left by an unfilled template (envsubst, CloudFormation-style)'],
  [/\{\{[^}]*\}\}/, 'a {{ }} left by an unfilled template (Helm, Go templates)'],
  [/<[A-Za-z][A-Za-z0-9_ -]*>/, 'a <placeholder> meant to be replaced'],
];

function labelsOf(metadata: SourceMap): Record<string, string> {
  const labels = metadata.labels;
  if (!isSourceMap(labels)) return {};
  return Object.fromEntries(Object.entries(labels).map(([key, value]) => [key, String(value)]));
}

/** Read every file's controller resources; each problem names file (and line where there is one). */
export function readManifests(files: readonly InputFile[], maxAliases: number): Manifests {
  const objects: K8sObject[] = [];
  const namespaceLabels = new Map<string, Record<string, string>>();
  const others = new Map<string, number>();
  const errors: SpecError[] = [];
  const warnings: SpecError[] = [];
  for (const file of files) {
    const read = readSource(file.text, { shortForms: false, maxAliases });
    if (!read.ok) {
      errors.push({ file: file.name, ...(read.line !== undefined ? { line: read.line } : {}), message: read.message });
      continue;
    }
    // Lines of the strings, to place a leftover (only App Mesh objects are checked: a Deployment's
    // `${IMAGE}` is none of the import's business).
    const linesOf = new Map<string, number[]>();
    for (const located of read.strings) linesOf.set(located.value, [...(linesOf.get(located.value) ?? []), located.line]);
    const checkLeftovers = (value: SourceValue, resource: string, path: string): void => {
      if (Array.isArray(value)) value.forEach((item, index) => checkLeftovers(item, resource, `${path}[${index}]`));
      else if (isSourceMap(value)) for (const [key, child] of Object.entries(value)) checkLeftovers(child, resource, path === '' ? key : `${path}.${key}`);
      else if (typeof value === 'string') {
        const found = leftoverPatterns.find(([pattern]) => pattern.test(value));
        if (!found) return;
        const line = linesOf.get(value)?.shift();
        errors.push({ file: file.name, ...(line !== undefined ? { line } : {}), resource, path, message: `${JSON.stringify(value.match(found[0])![0])} is ${found[1]}; fill it in before importing` });
      }
    };
    for (const document of read.documents) {
      if (document.value === null) continue;
      const items = isSourceMap(document.value) && Array.isArray(document.value.items) && typeof document.value.kind === 'string' && document.value.kind.endsWith('List')
        ? document.value.items
        : [document.value];
      for (const item of items) {
        if (!isSourceMap(item) || typeof item.kind !== 'string') {
          errors.push({ file: file.name, line: document.line, message: 'is not a Kubernetes object (no kind)' });
          continue;
        }
        const metadata = isSourceMap(item.metadata) ? item.metadata : {};
        const name = typeof metadata.name === 'string' ? metadata.name : '';
        if (item.kind === 'Namespace' && item.apiVersion === 'v1') {
          namespaceLabels.set(name, labelsOf(metadata));
          continue;
        }
        const apiGroup = typeof item.apiVersion === 'string' ? item.apiVersion.split('/')[0] : '';
        if (apiGroup !== 'appmesh.k8s.aws' || !(appMeshKinds as readonly string[]).includes(item.kind)) {
          others.set(item.kind, (others.get(item.kind) ?? 0) + 1);
          continue;
        }
        if (item.apiVersion !== APP_MESH_API_VERSION) {
          errors.push({ file: file.name, line: document.line, resource: `${item.kind} ${name}`, path: 'apiVersion', message: `is ${String(item.apiVersion)}; only ${APP_MESH_API_VERSION} is imported (upgrade the controller's resources first)` });
          continue;
        }
        if (name === '') {
          errors.push({ file: file.name, line: document.line, resource: item.kind, path: 'metadata.name', message: 'is required' });
          continue;
        }
        checkLeftovers(item, `${item.kind} ${name}`, '');
        const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : item.kind === 'Mesh' ? '' : 'default';
        if (namespace === 'default' && metadata.namespace === undefined) {
          warnings.push({ file: file.name, line: document.line, resource: `${item.kind} ${name}`, path: 'metadata.namespace', message: 'is not set; taken as "default" (kubectl would use the current context\'s namespace)' });
        }
        objects.push({ kind: item.kind as AppMeshKind, name, namespace, labels: labelsOf(metadata), spec: isSourceMap(item.spec) ? item.spec : {}, file: file.name, line: document.line });
      }
    }
  }
  return { objects, namespaceLabels, others, errors, warnings };
}
