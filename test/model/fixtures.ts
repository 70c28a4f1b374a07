// Small specs for model tests: a valid base mesh as plain objects that a test copies and breaks,
// run through the real parser (so errors carry real files and paths) and the real model builder.
import { stringify } from 'yaml';
import { buildModel, type BuildOptions, type BuildResult } from '../../src/model/build';
import { formatErrors } from '../../src/spec/errors';
import { parseSpecText } from '../../src/spec/parse';
import type { MeshModel } from '../../src/model/types';

/** Documents by file name. */
export type SpecFiles = Record<string, Record<string, unknown>[]>;

/** A valid mesh: node `a` calls `svc-b`, routed by router `r` to node `b`; gateway `g` fronts `svc-b`. */
export function baseMesh(): SpecFiles {
  return {
    'mesh.yaml': [{ kind: 'Mesh', meshName: 'm', spec: {} }],
    'nodes.yaml': [
      {
        kind: 'VirtualNode', meshName: 'm', virtualNodeName: 'a',
        spec: {
          listeners: [{ portMapping: { port: 8080, protocol: 'http' } }],
          serviceDiscovery: { dns: { hostname: 'a.m.local' } },
          backends: [{ virtualService: { virtualServiceName: 'svc-b' } }],
        },
      },
      {
        kind: 'VirtualNode', meshName: 'm', virtualNodeName: 'b',
        spec: {
          listeners: [{
            portMapping: { port: 9090, protocol: 'http' },
            tls: { mode: 'STRICT', certificate: { acm: { certificateArn: 'arn:aws:acm:r:1:certificate/b' } } },
          }],
          serviceDiscovery: { dns: { hostname: 'b.m.local' } },
        },
        meshd: { ingressPort: 15100, egressPort: 15101, adminPort: 9911 },
      },
    ],
    'routing.yaml': [
      { kind: 'VirtualService', meshName: 'm', virtualServiceName: 'svc-b', spec: { provider: { virtualRouter: { virtualRouterName: 'r' } } } },
      { kind: 'VirtualRouter', meshName: 'm', virtualRouterName: 'r', spec: { listeners: [{ portMapping: { port: 9090, protocol: 'http' } }] } },
      {
        kind: 'Route', meshName: 'm', virtualRouterName: 'r', routeName: 'rt',
        spec: { httpRoute: { match: { prefix: '/' }, action: { weightedTargets: [{ virtualNode: 'b', weight: 100 }] } } },
      },
    ],
    'gateway.yaml': [
      { kind: 'VirtualGateway', meshName: 'm', virtualGatewayName: 'g', spec: { listeners: [{ portMapping: { port: 8443, protocol: 'http' } }] } },
      {
        kind: 'GatewayRoute', meshName: 'm', virtualGatewayName: 'g', gatewayRouteName: 'gr',
        spec: { httpRoute: { match: { prefix: '/' }, action: { target: { virtualService: { virtualServiceName: 'svc-b' } } } } },
      },
    ],
  };
}

/** The document of `files` whose name field equals `name` (throws when absent: a broken fixture). */
export function doc(files: SpecFiles, name: string): Record<string, unknown> {
  for (const docs of Object.values(files)) {
    for (const document of docs) {
      const names = ['virtualNodeName', 'virtualGatewayName', 'virtualServiceName', 'virtualRouterName', 'routeName', 'gatewayRouteName', 'secretName'];
      const own = names.filter((field) => field in document).pop() ?? 'meshName';
      if (document[own] === name) return document;
    }
  }
  throw new Error(`fixture has no resource named ${name}`);
}

/** Parse every file as operators would write it, then build the model. */
export function build(files: SpecFiles, options: BuildOptions = {}): BuildResult & { parseErrors: string } {
  const parsed = Object.entries(files).map(([file, docs]) =>
    parseSpecText(file, file.endsWith('.json') ? JSON.stringify(docs) : docs.map((d) => stringify(d)).join('---\n')));
  const parseErrors = formatErrors(parsed.flatMap((p) => p.errors));
  const result = buildModel(parsed.flatMap((p) => p.resources), { ...options, invalid: parsed.flatMap((p) => p.invalid) });
  return { ...result, parseErrors };
}

/** The model of valid files (fails the test with every error otherwise). */
export function model(files: SpecFiles, options: BuildOptions = {}): MeshModel {
  const result = build(files, options);
  if (result.parseErrors) throw new Error(`fixture does not parse:\n${result.parseErrors}`);
  if (!result.ok) throw new Error(`fixture does not build:\n${formatErrors(result.errors)}`);
  return result.model;
}

/** The formatted errors of files expected to be invalid (parse errors first, then model errors). */
export function errorsOf(files: SpecFiles, options: BuildOptions = {}): string[] {
  const result = build(files, options);
  const lines = result.parseErrors ? result.parseErrors.split('\n') : [];
  if (!result.ok) lines.push(...formatErrors(result.errors).split('\n'));
  return lines;
}

/** Set a value at a dotted path (`spec.listeners.0.tls`), creating objects on the way. */
export function setIn(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node: Record<string, unknown> = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
}
