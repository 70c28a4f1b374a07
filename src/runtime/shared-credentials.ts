// Node credentials shared by replicas through etcd: the signing key and the state beside it
// (retiring keys, revocations) are `secrets/node-credential.key` and
// `secrets/node-credential-state.json`, both sealed (they hold keys). A rotation or revocation on
// any replica is one etcd transaction writing both, compared on the state entry's mod revision, so
// of two replicas changing the credentials at once exactly one wins and the other is told to try
// again. Every replica watches `secrets/` and adopts what changed: its streams whose credential is
// no longer valid end there too, and its state directory's copy is rewritten so `meshd bootstrap`
// on that machine prints what every replica accepts.
import type { Etcd3, Watcher } from 'etcd3';
import {
  NODE_CREDENTIAL_KEY_FILE, NODE_CREDENTIAL_STATE_FILE, NodeCredentials,
  type CredentialStateStore, type NodeCredentialState,
} from '../auth/node-credential';
import { DirectoryCredentialStore, formatStateDocument, parseStateDocument } from '../auth/credential-state';
import { logger, type Logger } from '../log';
import { SealError, seal, unseal } from '../store/sealing';

/** Where the shared state is and how to open it (shared-state.ts adds what the CA needs). */
export interface SharedCredentialsOptions {
  client: Etcd3;
  /** The store's key prefix (`/…/`). */
  prefix: string;
  /** The store's location, for messages. */
  location: string;
  /** The key-encryption key and the file it came from (named in refusals). */
  storeKey: Buffer;
  storeKeyFile: string;
  /** This replica's state directory, which keeps a copy for `meshd bootstrap`. */
  stateDir: string;
  log?: Logger;
}

/** Two replicas changed the node credentials at the same moment; this one lost and changed nothing. */
export class CredentialConflictError extends Error {}

/** What the state document says when none was ever written (as before rotation existed). */
export const EMPTY_CREDENTIAL_STATE_DOCUMENT = formatStateDocument({ current: Buffer.alloc(0), retiring: [], revoked: new Map() });

export class SharedCredentials implements CredentialStateStore {
  readonly credentials: NodeCredentials;
  readonly #options: SharedCredentialsOptions;
  readonly #log: Logger;
  readonly #local: DirectoryCredentialStore;
  /** Mod revision of the state entry this replica last saw ('0': absent). */
  #revision = '0';
  #watcher: Watcher | undefined;
  #following: Promise<unknown> = Promise.resolve();

  private constructor(options: SharedCredentialsOptions, state: NodeCredentialState, revision: string) {
    this.#options = options;
    this.#log = options.log ?? logger('shared-credentials');
    this.#local = new DirectoryCredentialStore(options.stateDir);
    this.#revision = revision;
    this.credentials = NodeCredentials.fromState(state, this, this.#log);
  }

  /** Reads the shared credentials (the key must be there: shared-state seeds it) and follows them. */
  static async open(options: SharedCredentialsOptions): Promise<SharedCredentials> {
    const read = await readShared(options);
    const shared = new SharedCredentials(options, read.state, read.revision);
    shared.#local.saveSync(read.state);
    const watcher = await options.client.watch().prefix(`${options.prefix}secrets/`).create();
    shared.#watcher = watcher;
    const follow = (): void => { shared.#follow(); };
    watcher.on('put', follow);
    watcher.on('delete', follow);
    watcher.on('connected', follow); // a change made while the connection was down
    return shared;
  }

  /** CredentialStateStore: both entries in one transaction, if nobody changed them since this replica read them. */
  async save(state: NodeCredentialState): Promise<void> {
    const { client } = this.#options;
    const [keyName, stateName] = [this.#name(NODE_CREDENTIAL_KEY_FILE), this.#name(NODE_CREDENTIAL_STATE_FILE)];
    const compared = this.#revision === '0' ? client.if(stateName, 'Create', '==', 0) : client.if(stateName, 'Mod', '==', this.#revision);
    const response = await compared
      .then(
        client.put(keyName).value(seal(this.#options.storeKey, keyName, Buffer.from(`${state.current.toString('base64')}\n`))),
        client.put(stateName).value(seal(this.#options.storeKey, stateName, Buffer.from(formatStateDocument(state)))),
      )
      .commit()
      .catch((err: Error) => { throw new Error(`etcd store ${this.#options.location}: could not save the node credentials: ${err.message}`); });
    if (!response.succeeded) {
      this.#follow();
      throw new CredentialConflictError('another replica changed the node credentials at the same moment; nothing was changed here: look at `meshd status` and try again');
    }
    this.#revision = String(response.header.revision);
    this.#local.saveSync(state);
  }

  async close(): Promise<void> {
    await this.#watcher?.cancel().catch(() => undefined);
    await this.#following;
    this.credentials.close();
  }

  /** Reads etcd's credentials and adopts them when they differ from this replica's (serialized). */
  #follow(): void {
    this.#following = this.#following.then(async () => {
      const read = await readShared(this.#options);
      if (read.revision === this.#revision) return;
      this.#revision = read.revision;
      const current = this.credentials.state;
      if (current.current.equals(read.state.current) && formatStateDocument(current) === formatStateDocument(read.state)) return;
      this.#local.saveSync(read.state);
      this.credentials.adopt(read.state);
      this.#log.info({ store: this.#options.location }, 'followed a change of the node credentials made on another replica');
    }).catch((err: Error) => this.#log.error({ err: err.message }, 'could not follow the shared node credentials; keeping the ones this replica holds'));
  }

  #name(file: string): string {
    return `${this.#options.prefix}secrets/${file}`;
  }
}

async function readShared(options: SharedCredentialsOptions): Promise<{ state: NodeCredentialState; revision: string }> {
  const { client, prefix, storeKey, storeKeyFile, location } = options;
  const open = (name: string, sealed: string): Buffer => {
    try {
      return unseal(storeKey, name, sealed);
    } catch (err) {
      if (err instanceof SealError) throw new Error(`--store-key-file ${storeKeyFile}: ${err.message}`);
      throw err;
    }
  };
  const keyName = `${prefix}secrets/${NODE_CREDENTIAL_KEY_FILE}`;
  const stateName = `${prefix}secrets/${NODE_CREDENTIAL_STATE_FILE}`;
  const [keyKv, stateKv] = await Promise.all([client.get(keyName).exec(), client.get(stateName).exec()]);
  const sealedKey = keyKv.kvs[0]?.value.toString('utf8');
  if (sealedKey === undefined) throw new Error(`${keyName} in ${location}: no node credential key (the first replica stores one)`);
  const current = Buffer.from(open(keyName, sealedKey).toString('utf8').trim(), 'base64');
  if (current.length < 32) throw new Error(`${keyName} in ${location}: holds ${current.length} bytes; expected at least 32`);
  const stateEntry = stateKv.kvs[0];
  const rest = stateEntry
    ? parseStateDocument(open(stateName, stateEntry.value.toString('utf8')).toString('utf8'), `${stateName} in ${location}`)
    : { retiring: [], revoked: new Map() };
  return { state: { current, ...rest }, revision: stateEntry ? String(stateEntry.mod_revision) : '0' };
}
