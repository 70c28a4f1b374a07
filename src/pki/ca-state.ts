// What the CA part of a state directory (`<stateDir>/ca/`) holds, read without changing anything,
// and `state.json`, the file that says which CA generation issues and which is being retired.
// The authority decides from this inventory whether it may create a CA (only when there is no CA
// material at all), must load what state.json names, or must refuse and name what is wrong.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic-file';
import { holdsCaMaterial } from './ca';

export const STATE_FILE = 'state.json';
export const GENERATION = /^ca-(\d+)$/;

/** Contents of `state.json`. */
export interface CaState {
  current: string;
  /** Set only while a rollover is in progress. */
  previous?: string;
}

/** One `ca-N` directory. */
export interface GenerationEntry {
  name: string;
  number: number;
  dir: string;
  /** True when it holds a CA certificate or key. */
  hasMaterial: boolean;
}

export type StateFileReading =
  | { kind: 'missing' }
  | { kind: 'valid'; state: CaState }
  | { kind: 'invalid'; problem: string };

export interface CaInventory {
  root: string;
  stateFile: string;
  state: StateFileReading;
  /** Every `ca-N` directory, highest number first. */
  generations: GenerationEntry[];
}

/** True when the state directory holds anything a proxy may already trust (or that names it). */
export function holdsAnyCaMaterial(inventory: CaInventory): boolean {
  return inventory.state.kind !== 'missing' || inventory.generations.some((generation) => generation.hasMaterial);
}

export function generationNumber(name: string): number {
  const match = GENERATION.exec(name);
  if (!match) throw new Error(`"${name}" is not a CA generation name like "ca-1"`);
  return Number(match[1]);
}

/** Reads `<root>` without changing it. A root that does not exist is an empty inventory. */
export async function inspectCaRoot(root: string): Promise<CaInventory> {
  const stateFile = path.join(root, STATE_FILE);
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { root, stateFile, state: { kind: 'missing' }, generations: [] };
    throw new Error(`${root}: ${(err as Error).message}`);
  }
  const generations: GenerationEntry[] = [];
  for (const name of names) {
    if (!GENERATION.test(name)) continue;
    const dir = path.join(root, name);
    generations.push({ name, number: generationNumber(name), dir, hasMaterial: await holdsCaMaterial(dir) });
  }
  generations.sort((a, b) => b.number - a.number);
  return { root, stateFile, state: await readStateFile(stateFile), generations };
}

async function readStateFile(file: string): Promise<StateFileReading> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'invalid', problem: `${file}: not valid JSON` };
  }
  const state = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { current?: unknown; previous?: unknown };
  if (typeof state.current !== 'string' || !GENERATION.test(state.current)) return { kind: 'invalid', problem: `${file}: "current" must name a CA directory like "ca-1"` };
  if (state.previous !== undefined && (typeof state.previous !== 'string' || !GENERATION.test(state.previous))) return { kind: 'invalid', problem: `${file}: "previous" must name a CA directory like "ca-1"` };
  if (state.previous === state.current) return { kind: 'invalid', problem: `${file}: "previous" and "current" name the same CA` };
  return { kind: 'valid', state: state.previous === undefined ? { current: state.current } : { current: state.current, previous: state.previous } };
}

export function writeStateFile(file: string, state: CaState): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(state) + '\n', 0o600);
}
