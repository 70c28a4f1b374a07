// `meshd serve` is the only command that creates state, and this is the only way it opens the
// state directory: the CA and the key that signs node credentials. What proxies already trust is
// never replaced without the operator asking for it: a partial or inconsistent directory is a
// StateDirectoryError naming the file and the recovery flag; a directory too open is narrowed with
// a warning; a brand-new directory (perhaps a mistyped --state-dir) is announced with its path.
import { promises as fs, renameSync } from 'node:fs';
import * as path from 'node:path';
import { NodeCredentials, nodeCredentialKeyPath } from '../auth/node-credential';
import { logger, type Logger } from '../log';
import { TrustAuthority, type CaRecovery } from '../pki/authority';
import { holdsAnyCaMaterial, inspectCaRoot } from '../pki/ca-state';
import { StateDirectoryError } from '../pki/state-error';
import { narrowMode } from '../util/file-mode';

/**
 * Group may read and enter the state directory (the SDS socket in it can be shared with the Envoy
 * user's group, see --sds-socket-mode); nobody else may, and only the owner may write.
 */
export const STATE_DIR_ALLOWED_MODE = 0o750;

/** Deliberate recoveries the operator asked for (`meshd serve --adopt-ca | --new-ca | --new-node-key`). */
export interface StateRecovery {
  ca?: CaRecovery;
  /** Create a new node credential key when it is missing or damaged beside an existing CA. */
  newNodeKey?: boolean;
}

export interface OpenStateDirectoryOptions {
  stateDir: string;
  trustDomain: string;
  autoFinishGraceMs?: number;
  recovery?: StateRecovery;
  log?: Logger;
}

export interface StateDirectory {
  credentials: NodeCredentials;
  authority: TrustAuthority;
}

export const NODE_KEY_RECOVERY_HINT = 'A new key would invalidate every bootstrap printed so far. Restore the file from a backup, or restart `meshd serve` with --new-node-key '
  + 'to create a new one (then print every node\'s bootstrap again with `meshd bootstrap`)';

export async function openStateDirectory(options: OpenStateDirectoryOptions): Promise<StateDirectory> {
  const log = options.log ?? logger('state-dir');
  const stateDir = options.stateDir;
  const recovery = options.recovery ?? {};
  const isNew = await prepareDirectory(stateDir, log);
  // Decide about the node key before the CA is touched: a refusal here must change nothing.
  const caPresent = holdsAnyCaMaterial(await inspectCaRoot(path.join(stateDir, 'ca')));
  const nodeKey = await nodeKeyState(stateDir, log);
  if ((nodeKey.kind === 'damaged' || (nodeKey.kind === 'missing' && caPresent)) && !recovery.newNodeKey) {
    const keyFile = nodeCredentialKeyPath(stateDir);
    const problem = nodeKey.kind === 'missing' ? `${keyFile}: node credential key missing while ${stateDir} holds a CA` : nodeKey.problem;
    throw new StateDirectoryError(keyFile, `${problem}. ${NODE_KEY_RECOVERY_HINT}`);
  }
  const authority = await TrustAuthority.open({
    stateDir,
    trustDomain: options.trustDomain,
    ...(options.autoFinishGraceMs !== undefined ? { autoFinishGraceMs: options.autoFinishGraceMs } : {}),
    ...(recovery.ca ? { recovery: recovery.ca } : {}),
  });
  let credentials: NodeCredentials;
  try {
    credentials = openNodeCredentials(stateDir, nodeKey, caPresent, log);
  } catch (err) {
    await authority.close();
    throw err;
  }
  const caId = authority.currentCa.id;
  // Warnings, not news: a mistyped --state-dir in production would otherwise start a new trust root unnoticed.
  const keep = 'only proxies bootstrapped from it will trust this meshd, so keep the directory (and back it up)';
  if (isNew) {
    log.warn({ dir: stateDir, caId }, `created a new state directory ${stateDir} with a new CA and node credential key; ${keep}`);
  } else if (authority.origin === 'created' && nodeKey.kind === 'missing') {
    log.warn({ dir: stateDir, caId }, `created a new CA and node credential key in ${stateDir}, which held no meshd state; ${keep}`);
  } else if (authority.origin === 'created') {
    log.warn({ dir: stateDir, caId }, `no CA in ${stateDir}: created a new one; proxies that trusted an earlier CA must receive the new trust bundle`);
  }
  return { credentials, authority };
}

/** Creates the directory (0700) if missing, returning true; otherwise narrows a mode too open. */
async function prepareDirectory(stateDir: string, log: Logger): Promise<boolean> {
  let stat;
  try {
    stat = await fs.stat(stateDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`state directory ${stateDir}: ${(err as Error).message}`);
    await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
    await fs.chmod(stateDir, 0o700); // mkdir's mode passes through the umask
    return true;
  }
  if (!stat.isDirectory()) throw new StateDirectoryError(stateDir, `state directory ${stateDir} is not a directory`);
  await narrowMode(stateDir, STATE_DIR_ALLOWED_MODE, log, 'state directory');
  return false;
}

type NodeKeyState = { kind: 'present'; credentials: NodeCredentials } | { kind: 'missing' } | { kind: 'damaged'; problem: string };

async function nodeKeyState(stateDir: string, log: Logger): Promise<NodeKeyState> {
  try {
    return { kind: 'present', credentials: NodeCredentials.load(stateDir, log) };
  } catch (err) {
    if (!(err instanceof StateDirectoryError)) throw err;
    return (await fs.stat(err.file).then(() => true, () => false)) ? { kind: 'damaged', problem: err.message } : { kind: 'missing' };
  }
}

function openNodeCredentials(stateDir: string, state: NodeKeyState, caPresent: boolean, log: Logger): NodeCredentials {
  const keyFile = nodeCredentialKeyPath(stateDir);
  if (state.kind === 'present') return state.credentials;
  if (state.kind === 'missing' && !caPresent) return NodeCredentials.create(stateDir); // part of new state
  // --new-node-key: a damaged key is kept beside the new one, never deleted.
  if (state.kind === 'damaged') renameSync(keyFile, `${keyFile}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const credentials = NodeCredentials.create(stateDir);
  log.warn({ file: keyFile }, `created a new node credential key ${keyFile}: every bootstrap printed before is no longer accepted; print each node's bootstrap again with \`meshd bootstrap\``);
  return credentials;
}
