// The state directory as the command line sees it. Only `meshd serve` creates state; `bootstrap`
// and `agent` read the node credential key that serve made, and fail (naming the directory they
// looked in and the flag to pass) instead of making a key of their own that the running meshd
// would not accept. serve's recovery flags are turned into a StateRecovery here.
import * as fs from 'node:fs';
import { NodeCredentials, nodeCredentialKeyPath } from '../auth/node-credential';
import { StateDirectoryError } from '../pki/state-error';
import type { StateRecovery } from '../runtime/state-directory';

/** Fails unless `stateDir` exists: a command other than serve must not create it. */
export function requireStateDir(stateDir: string, command: string): void {
  if (fs.existsSync(stateDir)) return;
  throw new Error(`${command}: no meshd state directory at ${stateDir} (looked for ${nodeCredentialKeyPath(stateDir)}); only \`meshd serve\` creates one. `
    + 'Pass --state-dir with the directory `meshd serve` uses');
}

/** The node credential key `meshd serve` keeps in `stateDir`; never creates one. */
export function loadNodeCredentials(stateDir: string, command: string): NodeCredentials {
  requireStateDir(stateDir, command);
  try {
    return NodeCredentials.load(stateDir);
  } catch (err) {
    if (!(err instanceof StateDirectoryError)) throw err;
    throw new Error(`${command}: ${err.message} in the state directory ${stateDir}; only \`meshd serve\` creates it. Pass --state-dir with the directory \`meshd serve\` uses`);
  }
}

export interface RecoveryFlags {
  adoptCa?: boolean;
  newCa?: boolean;
  newNodeKey?: boolean;
}

export function stateRecoveryFromFlags(flags: RecoveryFlags): StateRecovery {
  if (flags.adoptCa && flags.newCa) throw new Error('--adopt-ca and --new-ca are alternatives: adopt the CA material that is there, or set it aside for a new CA');
  return {
    ...(flags.adoptCa ? { ca: 'adopt' as const } : {}),
    ...(flags.newCa ? { ca: 'new-ca' as const } : {}),
    ...(flags.newNodeKey ? { newNodeKey: true } : {}),
  };
}
