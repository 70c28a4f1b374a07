// Opening the CA generations of a state directory (`<stateDir>/ca/ca-N`), and the one place that
// decides what meshd may do with what it finds there: create a CA only where there is no CA
// material at all, load what state.json names, and otherwise refuse, naming the file, unless the
// operator chose a recovery (adopt what is there, or set it aside and start a new CA).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log';
import { narrowMode } from '../util/file-mode';
import { CaMaterialError, CertificateAuthority, type CaKeyAlgorithm } from './ca';
import { holdsAnyCaMaterial, inspectCaRoot, STATE_FILE, writeStateFile, type CaInventory, type CaState } from './ca-state';
import { StateDirectoryError } from './state-error';

/** Latest notAfter a CA may have issued (ISO date), for leaves a restarted meshd no longer tracks. */
export const LEAVES_VALID_UNTIL_FILE = 'leaves-valid-until';

export type CaRecovery = 'adopt' | 'new-ca';

/** How open() came by the CA it issues from. */
export type CaOrigin = 'loaded' | 'created' | 'adopted' | 'replaced';

/** Appended to every refusal: how to recover deliberately. */
export const CA_RECOVERY_HINT = 'meshd will not replace CA material that proxies may trust. Restore the file from a backup, or restart `meshd serve` with '
  + '--adopt-ca to rebuild the CA state from the CA keys present (a lost CA certificate is re-created from its kept key, which proxies still trust), '
  + 'or with --new-ca to set the CA material aside (renamed, not deleted) and start a new CA (every proxy must then receive the new trust bundle)';

/** What opening generations needs to know (a subset of TrustAuthorityOptions). */
export interface GenerationOptions {
  stateDir: string;
  trustDomain: string;
  keyAlgorithm?: CaKeyAlgorithm;
  caValidityMs?: number;
  recovery?: CaRecovery;
}

export interface Generation {
  name: string;
  ca: CertificateAuthority;
  /** Mark read at open: leaves issued before this process started may live until then. */
  untrackedUntil: number;
  /** Mark known to be on disk. */
  persistedMark: number;
  /** Writes of the mark, chained so a later (larger) mark lands last. */
  markWrite: Promise<void>;
  pendingMark: number;
}

export interface OpenedGenerations {
  current: Generation;
  previous?: Generation;
  origin: CaOrigin;
}

/** The generations to issue from and trust, per the rules above. */
export async function openGenerations(options: GenerationOptions, log: Logger): Promise<OpenedGenerations> {
  const caRoot = path.join(options.stateDir, 'ca');
  const inventory = await inspectCaRoot(caRoot);
  if (!holdsAnyCaMaterial(inventory)) return { current: await createFirstGeneration(options, log), origin: 'created' };
  await narrowMode(caRoot, 0o700, log, 'CA directory');
  let named: { current: Generation; previous?: Generation };
  try {
    named = await loadNamedGenerations(inventory, options, log);
  } catch (err) {
    if (!(err instanceof CaMaterialError || err instanceof StateDirectoryError)) throw err;
    if (options.recovery === 'adopt') return { ...(await adoptGenerations(inventory, options, log)), origin: 'adopted' };
    if (options.recovery === 'new-ca') {
      const aside = await setAside(caRoot);
      log.warn({ damaged: err.message, setAside: aside }, `set aside the CA material in ${caRoot} as ${aside} and created a new CA: every proxy must receive the new trust bundle`);
      return { current: await createFirstGeneration(options, log), origin: 'replaced' };
    }
    throw new StateDirectoryError(err.file, `${err.message}. ${CA_RECOVERY_HINT}`);
  }
  if (options.recovery) log.info({ dir: caRoot, recovery: options.recovery }, 'CA state is intact; the recovery asked for has nothing to do');
  warnUnreferenced(inventory, named, log);
  return { ...named, origin: 'loaded' };
}

export async function openGeneration(caRoot: string, name: string, options: GenerationOptions, log: Logger, how: 'load' | 'create' | 'reissue'): Promise<Generation> {
  const dir = path.join(caRoot, name);
  const caOptions = { dir, trustDomain: options.trustDomain, log, ...(options.keyAlgorithm ? { keyAlgorithm: options.keyAlgorithm } : {}), ...(options.caValidityMs ? { validityMs: options.caValidityMs } : {}) };
  const ca = how === 'create' ? await CertificateAuthority.createAt(caOptions)
    : how === 'reissue' ? await CertificateAuthority.reissueCertificate(caOptions)
      : await CertificateAuthority.load(caOptions);
  let mark = 0;
  try {
    mark = Date.parse((await fs.readFile(path.join(dir, LEAVES_VALID_UNTIL_FILE), 'utf8')).trim()) || 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${path.join(dir, LEAVES_VALID_UNTIL_FILE)}: ${(err as Error).message}`);
  }
  return { name, ca, untrackedUntil: mark, persistedMark: mark, pendingMark: mark, markWrite: Promise.resolve() };
}

/**
 * The first CA of a state directory: `ca/` is built under a temporary name (CA and state.json)
 * and renamed into place, so a crash leaves no CA material or a complete, consistent set.
 */
async function createFirstGeneration(options: GenerationOptions, log: Logger): Promise<Generation> {
  const caRoot = path.join(options.stateDir, 'ca');
  const building = path.join(options.stateDir, `.ca.${randomBytes(6).toString('hex')}.tmp`);
  await fs.mkdir(building, { mode: 0o700 });
  try {
    await fs.chmod(building, 0o700);
    await openGeneration(building, 'ca-1', options, log.child({}, { level: 'silent' }), 'create');
    await writeStateFile(path.join(building, STATE_FILE), { current: 'ca-1' });
    // What is there holds no CA material (checked by the caller): nothing in it can be trusted.
    await fs.rm(caRoot, { recursive: true, force: true });
    await fs.rename(building, caRoot);
  } catch (err) {
    await fs.rm(building, { recursive: true, force: true });
    throw err;
  }
  const first = await openGeneration(caRoot, 'ca-1', options, log.child({}, { level: 'silent' }), 'load');
  log.info({ caId: first.ca.id, serial: first.ca.serial, notAfter: first.ca.notAfter.toISOString(), dir: first.ca.dir }, 'created CA');
  return first;
}

/** The generations state.json names; anything missing or damaged throws, naming the file. */
async function loadNamedGenerations(inventory: CaInventory, options: GenerationOptions, log: Logger): Promise<{ current: Generation; previous?: Generation }> {
  const reading = inventory.state;
  if (reading.kind === 'missing') {
    const present = inventory.generations.filter((generation) => generation.hasMaterial).map((generation) => generation.name);
    throw new StateDirectoryError(inventory.stateFile, `${inventory.stateFile}: missing while CA directories ${present.join(', ')} exist in ${inventory.root}; meshd will not guess which CA proxies trust`);
  }
  if (reading.kind === 'invalid') throw new StateDirectoryError(inventory.stateFile, reading.problem);
  const load = async (name: string, role: string): Promise<Generation> => {
    if (!inventory.generations.some((generation) => generation.name === name && generation.hasMaterial)) {
      throw new StateDirectoryError(inventory.stateFile, `${inventory.stateFile} names ${name} as the ${role} CA, but ${path.join(inventory.root, name)} holds no CA`);
    }
    return openGeneration(inventory.root, name, options, log, 'load');
  };
  const current = await load(reading.state.current, 'current');
  return reading.state.previous ? { current, previous: await load(reading.state.previous, 'previous') } : { current };
}

/**
 * Recovery: trust the CA material that is there. The generations state.json names when it is
 * readable, else the two highest; a generation whose certificate was lost gets one re-created from
 * its kept key. state.json is rewritten to match.
 */
async function adoptGenerations(inventory: CaInventory, options: GenerationOptions, log: Logger): Promise<{ current: Generation; previous?: Generation }> {
  const named = inventory.state.kind === 'valid' ? [inventory.state.state.current, inventory.state.state.previous].filter((name): name is string => name !== undefined) : [];
  const everyGeneration = inventory.generations.filter((generation) => generation.hasMaterial).map((generation) => generation.name);
  const adopted = await adoptUsable(named, inventory.root, options, log);
  if (adopted.length === 0) adopted.push(...await adoptUsable(everyGeneration.filter((name) => !named.includes(name)), inventory.root, options, log));
  const [current, previous] = adopted;
  if (!current) {
    throw new StateDirectoryError(inventory.root, `${inventory.root}: no CA to adopt (no ca-N directory holds a usable CA key); restart \`meshd serve\` with --new-ca to set it aside and start a new CA`);
  }
  const state: CaState = previous ? { current: current.name, previous: previous.name } : { current: current.name };
  await writeStateFile(inventory.stateFile, state);
  log.warn({ file: inventory.stateFile, current: current.name, currentCaId: current.ca.id, previous: previous?.name }, `adopted the CA material in ${inventory.root}: ${current.name} issues${previous ? `, ${previous.name} stays trusted until the rollover finishes` : ''}`);
  return previous ? { current, previous } : { current };
}

/** Up to two generations from `names` (in order) that can sign; the others are logged and skipped. */
async function adoptUsable(names: string[], caRoot: string, options: GenerationOptions, log: Logger): Promise<Generation[]> {
  const usable: Generation[] = [];
  for (const name of names) {
    if (usable.length === 2) break;
    const dir = path.join(caRoot, name);
    try {
      const certificateLost = !(await fileExists(path.join(dir, 'ca.crt'))) && (await fileExists(path.join(dir, 'ca.key')));
      usable.push(await openGeneration(caRoot, name, options, log, certificateLost ? 'reissue' : 'load'));
    } catch (err) {
      if (!(err instanceof CaMaterialError)) throw err;
      log.warn({ dir, problem: err.message }, `not adopting ${name}: it cannot sign`);
    }
  }
  return usable;
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** Renames `ca/` to `ca.replaced-<time>` beside it; the material is kept for whoever needs it. */
async function setAside(caRoot: string): Promise<string> {
  const aside = `${caRoot}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await fs.rename(caRoot, aside);
  return aside;
}

function warnUnreferenced(inventory: CaInventory, opened: { current: Generation; previous?: Generation }, log: Logger): void {
  const inUse = new Set([opened.current.name, opened.previous?.name]);
  const unreferenced = inventory.generations.filter((generation) => generation.hasMaterial && !inUse.has(generation.name)).map((generation) => generation.dir);
  if (unreferenced.length > 0) log.warn({ dirs: unreferenced, stateFile: inventory.stateFile }, 'CA directories that state.json does not name are left alone (an interrupted rollover or a retired CA); they are not trusted');
}
