// The shape of src/, checked: folders import only folders below them in the pipeline (see the
// README, "How it is built"), so there is no cycle between folders and no arrow pointing up, and no
// two files import each other in a ring. It reads the import statements of every source file.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(__dirname, '..', '..', 'src');

/**
 * Each folder's level: a folder may import only folders of a lower level. Protocol primitives at
 * the bottom, the wiring and the command line at the top.
 */
const LEVELS: Readonly<Record<string, number>> = {
  'log.ts': 0,
  util: 1, xds: 1, identity: 1,
  cache: 2, spec: 2, pki: 2,
  model: 3, server: 3, store: 3,
  envoy: 4, auth: 4, posture: 4,
  translate: 5, sds: 5, admin: 5, agent: 5, verify: 5, api: 5, import: 5,
  runtime: 6,
  cli: 7,
};

interface Import { from: string; to: string }

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative imports of every file under src/, resolved to files. */
function importsOf(files: readonly string[]): Import[] {
  const out: Import[] = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = path.resolve(path.dirname(file), match[1]!);
      const resolved = [`${target}.ts`, path.join(target, 'index.ts')].find((candidate) => fs.existsSync(candidate));
      if (resolved) out.push({ from: file, to: resolved });
    }
  }
  return out;
}

function folderOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!;
}

describe('src/ import graph', () => {
  const files = sourceFiles(SRC);
  const imports = importsOf(files);

  it('gives every top-level folder of src/ a level', () => {
    const unknown = [...new Set(files.map(folderOf))].filter((folder) => LEVELS[folder] === undefined);
    assert.deepEqual(unknown, [], 'add new folders to LEVELS in test/imports.test.ts');
  });

  it('has folders import only folders below them (no cycle, no arrow up the pipeline)', () => {
    const upward = new Set<string>();
    for (const { from, to } of imports) {
      const a = folderOf(from);
      const b = folderOf(to);
      if (a !== b && (LEVELS[b] ?? 99) >= (LEVELS[a] ?? -1)) upward.add(`${a} -> ${b} (${path.relative(SRC, from)} imports ${path.relative(SRC, to)})`);
    }
    assert.deepEqual([...upward].sort(), []);
  });

  // Builders and translation take model-shaped or Envoy-shaped inputs, never spec shapes.
  it('keeps envoy/ and translate/ off the spec shapes', () => {
    const offenders = imports.filter(({ from, to }) => ['envoy', 'translate'].includes(folderOf(from)) && folderOf(to) === 'spec');
    assert.deepEqual(offenders.map(({ from, to }) => `${path.relative(SRC, from)} imports ${path.relative(SRC, to)}`), []);
  });

  it('has no ring of files importing each other', () => {
    const edges = new Map<string, string[]>();
    for (const { from, to } of imports) edges.set(from, [...(edges.get(from) ?? []), to]);
    const rings: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of edges.get(file) ?? []) {
        if (state.get(next) === 'open') rings.push(stack.slice(stack.indexOf(next)).concat(next).map((f) => path.relative(SRC, f)).join(' -> '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    assert.deepEqual(rings, []);
  });
});
