// Bench: a synthetic mesh of 1,000 virtual nodes, each calling 5 backends over mutual TLS. Times
// parsing + building the model, translating it into snapshots for every endpoint, and the
// re-translation after one node's spec changes, which must rebuild only the snapshots whose
// inputs changed (the node itself and the nodes that call it). Run: node dist/bench/translate-mesh.js
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildModel } from '../src/model/build';
import { diffModels, loadMesh } from '../src/model/load-mesh';
import type { MeshModel } from '../src/model/types';
import { formatErrors } from '../src/spec/errors';
import { parseSpecText } from '../src/spec/parse';
import { ParsedSpecCache } from '../src/spec/parse-cache';
import { translateMesh } from '../src/translate';
import { BACKENDS, meshJson, meshText, nodeJson, serviceJson } from './synthetic-mesh';
import { recordVerdict } from './verdict';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const CHANGED = Math.floor(NODES / 2);

function modelOf(text: string): MeshModel {
  const parsed = parseSpecText('bench.json', text);
  if (parsed.errors.length > 0) throw new Error(formatErrors(parsed.errors));
  const built = buildModel(parsed.resources);
  if (!built.ok) throw new Error(formatErrors(built.errors));
  return built.model;
}

/** This process's CPU time (user + system, every thread: GC helpers too) of each timed run, ms. */
const cpuMs: number[] = [];

function time<T>(run: () => T): [T, number] {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = run();
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  cpuMs.push((used.user + used.system) / 1000);
  return [result, wall];
}

const options = { credentialFor: (id: string) => ({ header: 'x-meshd-node-token', value: `token-${id}` }) };
const [model, modelMs] = time(() => modelOf(meshText(NODES, CHANGED, 'STRICT')));
const [first, coldTranslateMs] = time(() => translateMesh(model, options));
const translateCpuFrom = cpuMs.length - 1;
// Two more full translations (nothing reused): the figure is the median of the three, as a
// running meshd translates with warm code.
const translateRuns = [coldTranslateMs, time(() => translateMesh(model, options))[1], time(() => translateMesh(model, options))[1]];
const translateMs = [...translateRuns].sort((a, b) => a - b)[1]!;
const translateCpu = cpuMs.slice(translateCpuFrom, translateCpuFrom + 3);
const resources = [...first.snapshots.values()].reduce((sum, snapshot) =>
  sum + snapshot.typeUrls().reduce((n, typeUrl) => n + (snapshot.get(typeUrl)?.resources.size ?? 0), 0), 0);
const inconsistent = [...first.snapshots.values()].filter((snapshot) => snapshot.consistencyErrors().length > 0).length;

const [changedModel, changedModelMs] = time(() => modelOf(meshText(NODES, CHANGED, 'PERMISSIVE')));
const [second, retranslateMs] = time(() => translateMesh(changedModel, options, first));
const diff = diffModels(model, changedModel);
const expected = [...diff.added, ...diff.changed].sort();
const onlyChanged = JSON.stringify([...second.rebuilt].sort()) === JSON.stringify(expected);
const keptObjects = second.reused.every((id) => second.snapshots.get(id) === first.snapshots.get(id));

const ms = (value: number): string => `${value.toFixed(1)} ms`;
console.log(`translate-mesh: ${NODES} virtual nodes x ${BACKENDS} backends, STRICT mTLS (acm leaves, client policies)`);
console.log(`  parse + build model:          ${ms(modelMs)}`);
console.log(`  translate + build snapshots:  ${ms(translateMs)} median of ${translateRuns.map(ms).join(', ')} (${first.snapshots.size} snapshots, ${resources} resources, ${inconsistent} inconsistent)`);
console.log(`  CPU of those runs:            ${translateCpu.map(ms).join(', ')} (steadier than wall time on a shared machine)`);
console.log(`  per endpoint:                 ${ms(translateMs / first.snapshots.size)}`);
console.log(`  one node changed (node-${CHANGED} STRICT -> PERMISSIVE):`);
console.log(`    parse + build model:        ${ms(changedModelMs)}`);
console.log(`    re-translate:               ${ms(retranslateMs)}`);
console.log(`    snapshots rebuilt:          ${second.rebuilt.length} (${second.rebuilt.join(', ')})`);
console.log(`    snapshots reused:           ${second.reused.length} (same objects: ${keptObjects})`);
console.log(`    rebuilt == changed inputs:  ${onlyChanged} (model diff: ${expected.length} changed)`);
if (!onlyChanged || !keptObjects || inconsistent > 0) process.exitCode = 1;
if (NODES === 1000) recordVerdict({ id: 'translate-1000', measured: `${ms(translateMs)} (median of 3; first ${ms(coldTranslateMs)})`, met: translateMs <= 500 });

/**
 * The same mesh as a directory of one file per resource (how specs are usually kept), loaded the
 * way the watcher loads it: with a parse cache, so after a one-file change only that file is parsed.
 */
async function directoryLoads(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-bench-specs-'));
  try {
    const write = (mode: string): void => {
      fs.writeFileSync(path.join(dir, 'mesh.json'), JSON.stringify(meshJson()));
      for (let i = 0; i < NODES; i++) {
        fs.writeFileSync(path.join(dir, `node-${i}.json`), JSON.stringify(nodeJson(i, NODES, i === CHANGED ? mode : 'STRICT')));
        fs.writeFileSync(path.join(dir, `svc-${i}.json`), JSON.stringify(serviceJson(i)));
      }
    };
    write('STRICT');
    const cache = new ParsedSpecCache();
    const timed = async (): Promise<number> => {
      const start = performance.now();
      const result = await loadMesh(dir, { parseCache: cache });
      if (!result.ok) throw new Error(formatErrors(result.errors));
      return performance.now() - start;
    };
    const cold = await timed();
    fs.writeFileSync(path.join(dir, `node-${CHANGED}.json`), JSON.stringify(nodeJson(CHANGED, NODES, 'PERMISSIVE')));
    const warm = await timed();
    console.log(`  as ${2 * NODES + 1} files (one per resource), read + parse + build model like the watcher:`);
    console.log(`    first load:                 ${ms(cold)}`);
    console.log(`    after one file changed:     ${ms(warm)} (only that file parsed again)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

directoryLoads().catch((err: Error) => {
  console.error(err);
  process.exitCode = 1;
});
