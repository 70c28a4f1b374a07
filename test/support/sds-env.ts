// A real SDS server on a Unix socket with a CA in a temporary state directory, for tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EndpointCertificates, TrustAuthority } from '../../src/pki';
import { NodeCredentials } from '../../src/auth/node-credential';
import { SecretCache, type EndpointSecretPolicy } from '../../src/sds/secret-cache';
import { startSdsServer } from '../../src/sds/sds-server';
import type { XdsServer } from '../../src/server/xds-server';

export const TD = 'test.meshd';

export interface SdsEnv {
  dir: string;
  socketPath: string;
  authority: TrustAuthority;
  certificates: EndpointCertificates;
  credentials: NodeCredentials;
  secrets: SecretCache;
  server: XdsServer;
  rejected: string[];
  /**
   * What the mesh model would say about an endpoint, by node key: a policy, or undefined for a
   * node that is not in the mesh. Endpoints not set here get `<name>.demo.local` as DNS name.
   */
  policies: Map<string, EndpointSecretPolicy | undefined>;
}

export async function startSdsEnv(stateDir?: string, ttlMs = 60 * 60 * 1000, forgetAfterMs?: number): Promise<SdsEnv> {
  const dir = stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-sds-'));
  const authority = await TrustAuthority.open({ stateDir: dir, trustDomain: TD });
  const certificates = new EndpointCertificates({ authority, ttlMs, rolloverReissueDelayMs: 300 });
  const credentials = NodeCredentials.loadOrCreate(dir);
  const policies = new Map<string, EndpointSecretPolicy | undefined>();
  const secrets = new SecretCache({
    certificates,
    trustDomain: TD,
    policyOf: (key) => (policies.has(key) ? policies.get(key) : { dnsNames: [`${key.split('/').pop()}.demo.local`], fileSecrets: [] }),
    fileSecret: () => undefined,
    ...(forgetAfterMs ? { forgetAfterMs } : {}),
  });
  const rejected: string[] = [];
  const socketPath = path.join(dir, 'sds', 'sds.sock');
  const server = await startSdsServer({ socketPath, secrets, identify: credentials.identifier(), observer: { requestRejected: (_s, reason) => rejected.push(reason) } });
  return { dir, socketPath, authority, certificates, credentials, secrets, server, rejected, policies };
}

export async function stopSdsEnv(env: SdsEnv, removeDir = true): Promise<void> {
  await env.server.shutdown(200);
  env.secrets.close();
  env.certificates.stop();
  await env.authority.close();
  if (removeDir) fs.rmSync(env.dir, { recursive: true, force: true });
}

