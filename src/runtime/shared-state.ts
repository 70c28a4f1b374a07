// The CA and the node-credential key shared by meshd replicas through etcd (`serve --store`).
// etcd is the source of truth; each replica materializes it into its own state directory
// (private keys decrypted, 0600, written atomically) and the TrustAuthority works on that copy
// exactly as in the directory mode. Layout under the store prefix:
//   keycheck                     a sealed known value: a wrong --store-key-file is refused at once
//   ca/state                     {"current":"ca-2","previous":"ca-1"} (state.json's content)
//   ca/ca-N/ca.crt               the CA certificate (PEM, public)
//   ca/ca-N/ca.key               the CA private key, sealed (see store/sealing.ts)
//   secrets/<file>               each of SHARED_SECRET_FILES, sealed; and the node credential state
//                                (shared-credentials.ts), sealed
// Creating the first CA and starting or finishing a rollover are etcd transactions on ca/state
// (create-if-absent, or compare its mod revision), so of two replicas racing exactly one wins and
// the other follows what the winner wrote. Every replica watches ca/ and follows changes.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Etcd3, Watcher } from 'etcd3';
import { NODE_CREDENTIAL_KEY_FILE, type NodeCredentials } from '../auth/node-credential';
import { logger, type Logger } from '../log';
import type { RolloverStatus, TrustAuthority } from '../pki';
import { CertificateAuthority } from '../pki/ca';
import { generationNumber, GENERATION, holdsAnyCaMaterial, inspectCaRoot, STATE_FILE, type CaState } from '../pki/ca-state';
import { SealError, seal, unseal } from '../store/sealing';
import { readIfExists, writeFileAtomic } from '../util/atomic-file';
import { openStateDirectory, type StateRecovery } from './state-directory';
import { SharedCredentials, type SharedCredentialsOptions } from './shared-credentials';

/**
 * State-directory files (besides the CA) every replica must hold the same copy of; each is stored
 * sealed under `secrets/<file>`, created by the first replica and loaded by the others. Another
 * shared file is one more line here.
 */
export const SHARED_SECRET_FILES: readonly string[] = [NODE_CREDENTIAL_KEY_FILE];

const CA_FILES = { certificate: 'ca.crt', key: 'ca.key' } as const;
const KEY_CHECK_TEXT = 'meshd store key check v1';

export interface SharedStateOptions extends SharedCredentialsOptions {
  trustDomain: string;
  /** Applies only when this replica seeds etcd from its own state directory. */
  recovery?: StateRecovery;
  log?: Logger;
}

/** The CA as etcd holds it. */
interface StoredCa {
  /** Mod revision of `ca/state`: what a rollover start or finish compares. */
  revision: string;
  state: CaState;
  /** Every `ca-N` with material in etcd (named or not), for picking the next number. */
  generationNames: string[];
  /** Files of the generations `state` names, keys unsealed. */
  files: Map<string, { certificatePem: string; keyPem: Buffer }>;
}

/** Thrown when another replica changed the shared CA state first (a rollover race lost). */
export class SharedStateConflictError extends Error {}

export class SharedState {
  readonly #options: SharedStateOptions;
  readonly #log: Logger;
  readonly authority: TrustAuthority;
  readonly credentials: NodeCredentials;
  #watcher: Watcher | undefined;
  #syncing: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  readonly #sharedCredentials: SharedCredentials;

  private constructor(options: SharedStateOptions, opened: { authority: TrustAuthority; credentials: SharedCredentials }) {
    this.#options = options;
    this.#log = options.log ?? logger('shared-state');
    this.authority = opened.authority;
    this.#sharedCredentials = opened.credentials;
    this.credentials = opened.credentials.credentials;
  }

  /**
   * Checks the key-encryption key against etcd (before anything is written anywhere), creates the
   * shared CA and secrets when etcd holds none (from this state directory's own, or new ones),
   * materializes what etcd holds into the state directory and opens it.
   */
  static async open(options: SharedStateOptions): Promise<SharedState> {
    const log = options.log ?? logger('shared-state');
    await checkStoreKey(options);
    // Read (and unseal) before the state directory is touched: a refusal leaves nothing behind.
    let ca = await readStoredCa(options);
    let secrets = await readSecrets(options);
    await fs.mkdir(options.stateDir, { recursive: true, mode: 0o700 });
    if (!ca || secrets.size < SHARED_SECRET_FILES.length) {
      await seed(options, ca === undefined, SHARED_SECRET_FILES.filter((file) => !secrets.has(file)), log);
      ca = await readStoredCa(options);
      secrets = await readSecrets(options);
      if (!ca) throw new Error(`${options.location}: no CA in etcd after creating one`);
    }
    await materializeCa(options, ca, log, { atStart: true });
    await materializeSecrets(options, secrets, log);
    // Rollovers finish on the leader only (rollover-leader.ts): no auto-finish here.
    const opened = await openStateDirectory({ stateDir: options.stateDir, trustDomain: options.trustDomain, log });
    // The directory's copy of the node credentials checked the files; from here on they are
    // changed (rotation, revocation) and followed through etcd.
    opened.credentials.close();
    let credentials: SharedCredentials;
    try {
      credentials = await SharedCredentials.open({ ...options, log: log.child({ part: 'credentials' }) });
    } catch (err) {
      await opened.authority.close();
      throw err;
    }
    const shared = new SharedState(options, { authority: opened.authority, credentials });
    try {
      await shared.#watch();
    } catch (err) {
      await credentials.close();
      await opened.authority.close();
      throw err;
    }
    return shared;
  }

  /**
   * Starts a rollover for every replica: a new CA generation and the new state are written in one
   * transaction that holds only if ca/state is still what this replica read. Lost: follows the
   * winner and throws a SharedStateConflictError saying so.
   */
  async startRollover(): Promise<RolloverStatus> {
    const stored = await readStoredCa(this.#options);
    if (!stored) throw new Error(`${this.#options.location}: the shared CA state is gone from etcd`);
    if (stored.state.previous) {
      await this.sync();
      throw new SharedStateConflictError(`a CA rollover is already in progress on the replicas sharing ${this.#options.location} (CA generation ${stored.state.previous} is still trusted)`);
    }
    const numbers = [...stored.generationNames, stored.state.current].map(generationNumber);
    const name = `ca-${Math.max(...numbers) + 1}`;
    const building = await fs.mkdtemp(path.join(this.#options.stateDir, '.rollover-'));
    let files: { certificatePem: string; keyPem: Buffer };
    try {
      await CertificateAuthority.createAt({ dir: path.join(building, name), trustDomain: this.#options.trustDomain, log: this.#log.child({}, { level: 'silent' }) });
      files = await readGenerationFiles(path.join(building, name));
    } finally {
      await fs.rm(building, { recursive: true, force: true });
    }
    const next: CaState = { current: name, previous: stored.state.current };
    const { client } = this.#options;
    const response = await client.if(this.#caStateKey, 'Mod', '==', stored.revision)
      .then(...this.#generationPuts(name, files), client.put(this.#caStateKey).value(JSON.stringify(next)))
      .commit();
    await this.sync();
    if (!response.succeeded) {
      const status = this.authority.rolloverStatus();
      this.#log.warn({ currentCaId: status.currentCaId, previousCaId: status.previousCaId }, 'another replica started a CA rollover first; following it');
      throw new SharedStateConflictError(`another replica started a CA rollover first; this replica follows it: new leaves come from CA ${status.currentCaId}`);
    }
    return this.authority.rolloverStatus();
  }

  /**
   * Finishes the rollover for every replica (the leader calls this when its rule says so): the
   * previous generation leaves ca/state and its files leave etcd, in one compared transaction.
   * Returns false when ca/state changed meanwhile (nothing written).
   */
  async finishRollover(): Promise<boolean> {
    const stored = await readStoredCa(this.#options);
    if (!stored?.state.previous) return true;
    const { client, prefix } = this.#options;
    const response = await client.if(this.#caStateKey, 'Mod', '==', stored.revision)
      .then(client.put(this.#caStateKey).value(JSON.stringify({ current: stored.state.current })), client.delete().prefix(`${prefix}ca/${stored.state.previous}/`))
      .commit();
    await this.sync();
    return response.succeeded;
  }

  /** Materializes what etcd holds now and lets the authority follow it (serialized). */
  sync(): Promise<void> {
    const run = this.#syncing.then(async () => {
      const stored = await readStoredCa(this.#options);
      if (!stored) {
        this.#log.error({ store: this.#options.location }, 'the shared CA state is gone from etcd; keeping the CA this replica holds');
        return;
      }
      await materializeCa(this.#options, stored, this.#log, { atStart: false });
      await this.authority.followState();
    });
    this.#syncing = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#watcher?.cancel().catch(() => undefined);
    await this.#syncing;
    await this.#sharedCredentials.close();
  }

  get #caStateKey(): string {
    return `${this.#options.prefix}ca/state`;
  }

  #generationPuts(name: string, files: { certificatePem: string; keyPem: Buffer }): ReturnType<Etcd3['put']>[] {
    const { client, prefix, storeKey } = this.#options;
    const keyName = `${prefix}ca/${name}/${CA_FILES.key}`;
    return [
      client.put(`${prefix}ca/${name}/${CA_FILES.certificate}`).value(files.certificatePem),
      client.put(keyName).value(seal(storeKey, keyName, files.keyPem)),
    ];
  }

  async #watch(): Promise<void> {
    const watcher = await this.#options.client.watch().prefix(`${this.#options.prefix}ca/`).create();
    this.#watcher = watcher;
    const changed = (): void => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        this.sync().catch((err: Error) => this.#log.error({ err: err.message }, 'could not follow the shared CA state; keeping the CA this replica holds'));
      }, 20);
    };
    watcher.on('put', changed);
    watcher.on('delete', changed);
    // A change made while the connection was down is read when it returns.
    watcher.on('connected', changed);
  }
}

/** Creates the key check if absent, then opens it: a wrong key is refused before anything is written. */
async function checkStoreKey(options: SharedStateOptions): Promise<void> {
  const { client, prefix, storeKey, storeKeyFile, location } = options;
  const name = `${prefix}keycheck`;
  const response = await client.if(name, 'Create', '==', 0)
    .then(client.put(name).value(seal(storeKey, name, Buffer.from(KEY_CHECK_TEXT))))
    .else(client.get(name))
    .commit()
    .catch((err: Error) => { throw new Error(`etcd store ${location}: could not read the key check: ${err.message}`); });
  if (response.succeeded) return;
  const stored = response.responses[0]?.response_range.kvs[0]?.value.toString('utf8') ?? '';
  try {
    if (unseal(storeKey, name, stored).toString('utf8') === KEY_CHECK_TEXT) return;
  } catch (err) {
    if (!(err instanceof SealError)) throw err;
  }
  throw new Error(`--store-key-file ${storeKeyFile}: not the key the material in ${location} was sealed with (the key check ${name} does not open with it); give this replica the same key file as the others`);
}

async function readStoredCa(options: SharedStateOptions): Promise<StoredCa | undefined> {
  const { client, prefix, storeKey, storeKeyFile, location } = options;
  const response = await client.getAll().prefix(`${prefix}ca/`).exec();
  const values = new Map(response.kvs.map((kv) => [kv.key.toString('utf8').slice(`${prefix}ca/`.length), kv]));
  const stateKv = values.get('state');
  if (!stateKv) return undefined;
  let state: CaState;
  try {
    state = JSON.parse(stateKv.value.toString('utf8')) as CaState;
  } catch {
    throw new Error(`${prefix}ca/state in ${location}: not valid JSON`);
  }
  if (typeof state.current !== 'string' || !GENERATION.test(state.current) || (state.previous !== undefined && !GENERATION.test(state.previous))) {
    throw new Error(`${prefix}ca/state in ${location}: must name CA generations like {"current":"ca-1"}`);
  }
  const files = new Map<string, { certificatePem: string; keyPem: Buffer }>();
  for (const name of [state.current, ...(state.previous ? [state.previous] : [])]) {
    const certificate = values.get(`${name}/${CA_FILES.certificate}`);
    const key = values.get(`${name}/${CA_FILES.key}`);
    if (!certificate || !key) throw new Error(`${prefix}ca/state in ${location} names ${name}, but ${prefix}ca/${name}/ lacks ${certificate ? CA_FILES.key : CA_FILES.certificate}`);
    const keyName = `${prefix}ca/${name}/${CA_FILES.key}`;
    files.set(name, { certificatePem: certificate.value.toString('utf8'), keyPem: unsealNamed(storeKey, storeKeyFile, keyName, key.value.toString('utf8')) });
  }
  const generationNames = [...new Set([...values.keys()].map((key) => key.split('/')[0]!).filter((name) => GENERATION.test(name)))];
  return { revision: String(stateKv.mod_revision), state, generationNames, files };
}

async function readSecrets(options: SharedStateOptions): Promise<Map<string, Buffer>> {
  const { client, prefix, storeKey, storeKeyFile } = options;
  const secrets = new Map<string, Buffer>();
  for (const file of SHARED_SECRET_FILES) {
    const name = `${prefix}secrets/${file}`;
    const value = await client.get(name).string();
    if (value !== null) secrets.set(file, unsealNamed(storeKey, storeKeyFile, name, value));
  }
  return secrets;
}

function unsealNamed(storeKey: Buffer, storeKeyFile: string, name: string, value: string): Buffer {
  try {
    return unseal(storeKey, name, value);
  } catch (err) {
    if (err instanceof SealError) throw new Error(`--store-key-file ${storeKeyFile}: ${err.message}`);
    throw err;
  }
}

/**
 * etcd holds no CA (or lacks a shared secret): publish this state directory's own when it holds a
 * CA (a single meshd becoming the first replica), else new ones made in a scratch directory. Each
 * publication is create-if-absent: a replica that loses the race publishes nothing and, like
 * every replica, then materializes the winner's.
 */
async function seed(options: SharedStateOptions, needCa: boolean, missingSecrets: string[], log: Logger): Promise<void> {
  const ownCa = holdsAnyCaMaterial(await inspectCaRoot(path.join(options.stateDir, 'ca')));
  const seedDir = ownCa ? options.stateDir : await fs.mkdtemp(path.join(options.stateDir, '.seed-'));
  try {
    const opened = await openStateDirectory({
      stateDir: seedDir, trustDomain: options.trustDomain, log: ownCa ? log : log.child({}, { level: 'silent' }),
      ...(options.recovery ? { recovery: options.recovery } : {}),
    });
    await opened.authority.close();
    const { client, prefix, storeKey } = options;
    if (needCa) {
      const state = JSON.parse(await fs.readFile(path.join(seedDir, 'ca', STATE_FILE), 'utf8')) as CaState;
      const puts: ReturnType<Etcd3['put']>[] = [client.put(`${prefix}ca/state`).value(JSON.stringify(state))];
      for (const name of [state.current, ...(state.previous ? [state.previous] : [])]) {
        const files = await readGenerationFiles(path.join(seedDir, 'ca', name));
        const keyName = `${prefix}ca/${name}/${CA_FILES.key}`;
        puts.push(client.put(`${prefix}ca/${name}/${CA_FILES.certificate}`).value(files.certificatePem), client.put(keyName).value(seal(storeKey, keyName, files.keyPem)));
      }
      const won = (await client.if(`${prefix}ca/state`, 'Create', '==', 0).then(...puts).commit()).succeeded;
      log.info({ store: options.location, current: state.current }, won ? `stored ${ownCa ? `the CA of ${options.stateDir}` : 'a new CA'} in ${options.location}` : 'another replica stored its CA first; using that one');
    }
    for (const file of missingSecrets) {
      const name = `${prefix}secrets/${file}`;
      const content = await fs.readFile(path.join(seedDir, file));
      const won = (await client.if(name, 'Create', '==', 0).then(client.put(name).value(seal(storeKey, name, content))).commit()).succeeded;
      log.info({ store: options.location, file }, won ? `stored ${file} in ${options.location}` : `another replica stored ${file} first; using that one`);
    }
  } finally {
    if (!ownCa) await fs.rm(seedDir, { recursive: true, force: true });
  }
}

async function readGenerationFiles(dir: string): Promise<{ certificatePem: string; keyPem: Buffer }> {
  return {
    certificatePem: await fs.readFile(path.join(dir, CA_FILES.certificate), 'utf8'),
    keyPem: await fs.readFile(path.join(dir, CA_FILES.key)),
  };
}

/**
 * Writes the generations etcd names into `<stateDir>/ca/` (only files that differ), state.json
 * last. At start, a local CA that disagrees with etcd's is set aside (renamed, never deleted).
 * The leaves-valid-until marks stay local: they describe the leaves this replica issued.
 */
async function materializeCa(options: SharedStateOptions, stored: StoredCa, log: Logger, when: { atStart: boolean }): Promise<void> {
  const caRoot = path.join(options.stateDir, 'ca');
  if (when.atStart && await disagrees(caRoot, stored)) {
    const aside = `${caRoot}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await fs.rename(caRoot, aside);
    log.warn({ dir: caRoot, setAside: aside, store: options.location }, `the CA in ${caRoot} is not the one the replicas share in ${options.location}; set it aside as ${aside} and using the shared one`);
  }
  await fs.mkdir(caRoot, { recursive: true, mode: 0o700 });
  await fs.chmod(caRoot, 0o700);
  for (const [name, files] of stored.files) {
    const dir = path.join(caRoot, name);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.chmod(dir, 0o700);
    await writeIfDifferent(path.join(dir, CA_FILES.certificate), Buffer.from(files.certificatePem), 0o644);
    await writeIfDifferent(path.join(dir, CA_FILES.key), files.keyPem, 0o600);
  }
  await writeIfDifferent(path.join(caRoot, STATE_FILE), Buffer.from(JSON.stringify(stored.state) + '\n'), 0o600);
}

/** True when `caRoot` holds CA material that is not what etcd holds under the same names. */
async function disagrees(caRoot: string, stored: StoredCa): Promise<boolean> {
  const inventory = await inspectCaRoot(caRoot);
  for (const generation of inventory.generations) {
    if (!generation.hasMaterial) continue;
    const shared = stored.files.get(generation.name);
    // A generation etcd does not name (a local CA from before, or a rollover etcd never saw)
    // would collide with a later shared generation of the same name.
    if (!shared) return true;
    const certificate = await readIfExists(path.join(generation.dir, CA_FILES.certificate));
    const key = await fs.readFile(path.join(generation.dir, CA_FILES.key)).catch(() => undefined);
    if ((certificate !== undefined && certificate !== shared.certificatePem) || (key !== undefined && !key.equals(shared.keyPem))) return true;
  }
  return false;
}

async function materializeSecrets(options: SharedStateOptions, secrets: Map<string, Buffer>, log: Logger): Promise<void> {
  for (const [file, content] of secrets) {
    const target = path.join(options.stateDir, file);
    const local = await fs.readFile(target).catch(() => undefined);
    if (local && !local.equals(content)) {
      const aside = `${target}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await fs.rename(target, aside);
      log.warn({ file: target, setAside: aside, store: options.location }, `${target} is not the one the replicas share in ${options.location}; set it aside as ${aside} and using the shared one`);
    }
    await writeIfDifferent(target, content, 0o600);
  }
}

async function writeIfDifferent(file: string, content: Buffer, mode: number): Promise<void> {
  const local = await fs.readFile(file).catch(() => undefined);
  if (local && local.equals(content)) return;
  await writeFileAtomic(file, content, mode);
}
