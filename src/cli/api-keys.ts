// `meshd api-keys create|list|revoke`: the access keys the App Mesh API checks SigV4 signatures
// against. The secret is printed once, at creation; `list` never shows it.
import { createKey, readKeys, revokeKey, type KeyAccess } from '../api/keys';

export interface CommandResult {
  exitCode: number;
  output: string;
}

export function runApiKeysCreate(file: string, access: KeyAccess, description: string | undefined, json: boolean): CommandResult {
  const key = createKey(file, access, description);
  if (json) return { exitCode: 0, output: JSON.stringify({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, access: key.access }) };
  return {
    exitCode: 0,
    output: [
      `created ${key.access} key ${key.accessKeyId} in ${file} (the secret is shown only now):`,
      `export AWS_ACCESS_KEY_ID=${key.accessKeyId}`,
      `export AWS_SECRET_ACCESS_KEY=${key.secretAccessKey}`,
    ].join('\n'),
  };
}

export function runApiKeysList(file: string, json: boolean): CommandResult {
  const keys = readKeys(file).map(({ secretAccessKey: _secret, ...visible }) => visible);
  if (json) return { exitCode: 0, output: JSON.stringify(keys) };
  if (keys.length === 0) return { exitCode: 0, output: `no API keys in ${file}` };
  return {
    exitCode: 0,
    output: keys.map((key) => `${key.accessKeyId}  ${key.access.padEnd(10)}  ${key.createdAt}${key.description ? `  ${key.description}` : ''}`).join('\n'),
  };
}

export function runApiKeysRevoke(file: string, accessKeyId: string): CommandResult {
  return revokeKey(file, accessKeyId)
    ? { exitCode: 0, output: `revoked ${accessKeyId}; the API refuses it from its next request` }
    : { exitCode: 1, output: `no key ${accessKeyId} in ${file}` };
}
