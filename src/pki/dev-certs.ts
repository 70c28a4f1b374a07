// Development certificates for `npm start`: a CA and one certificate/key pair per demo endpoint,
// written once under certs-dev/ (git-ignored) and reused while they stay valid. Nothing here is
// meant for production; meshd's real CA lives in the state directory.
import { X509Certificate } from 'node:crypto';
import * as path from 'node:path';
import { logger } from '../log';
import { ensurePrivateDir, readIfExists, writeFileAtomic } from '../util/atomic-file';
import { CertificateAuthority } from './ca';
import { issueLeaf } from './issuer';
import { validateTlsCertificate } from './pem-validation';
import type { MeshEndpoint } from './types';

const DEV_LEAF_TTL_MS = 365 * 24 * 3600 * 1000;
/** Re-issue a development leaf when it has less than this left. */
const DEV_LEAF_MIN_REMAINING_MS = 7 * 24 * 3600 * 1000;

/** Files of one endpoint's development certificate. */
export interface DevEndpointFiles {
  endpoint: MeshEndpoint;
  certificateChainFile: string;
  privateKeyFile: string;
}

/** What ensureDevCerts wrote (or found). */
export interface DevCerts {
  /** The development CA's certificate: the trust bundle for the demo. */
  caBundleFile: string;
  endpoints: DevEndpointFiles[];
}

/**
 * Makes sure `dir` holds a development CA (`ca/`) and, per endpoint,
 * `<mesh>/<kind>/<name>/cert_chain.pem` + `private_key.pem` (0600) signed by it.
 */
export async function ensureDevCerts(dir: string, endpoints: MeshEndpoint[], trustDomain = 'meshd.local'): Promise<DevCerts> {
  const log = logger('pki-dev-certs');
  await ensurePrivateDir(dir);
  const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(dir, 'ca'), trustDomain, log });
  const caBundleFile = path.join(dir, 'ca_bundle.pem');
  if ((await readIfExists(caBundleFile)) !== ca.certificatePem) await writeFileAtomic(caBundleFile, ca.certificatePem, 0o644);
  const result: DevCerts = { caBundleFile, endpoints: [] };
  for (const endpoint of endpoints) {
    const endpointDir = path.join(dir, endpoint.mesh, endpoint.kind, endpoint.name);
    const files: DevEndpointFiles = { endpoint, certificateChainFile: path.join(endpointDir, 'cert_chain.pem'), privateKeyFile: path.join(endpointDir, 'private_key.pem') };
    result.endpoints.push(files);
    if (await stillGood(files, ca)) continue;
    await ensurePrivateDir(endpointDir);
    const leaf = await issueLeaf(ca, endpoint, { trustDomain, ttlMs: DEV_LEAF_TTL_MS });
    await writeFileAtomic(files.privateKeyFile, leaf.privateKeyPem, 0o600);
    await writeFileAtomic(files.certificateChainFile, leaf.certificateChainPem, 0o644);
    log.info({ endpoint: leaf.spiffeId, file: files.certificateChainFile, serial: leaf.serial }, 'wrote development certificate');
  }
  return result;
}

/** Existing files are kept if they form a valid pair from this CA with time left and the same SANs. */
async function stillGood(files: DevEndpointFiles, ca: CertificateAuthority): Promise<boolean> {
  const [chain, key] = await Promise.all([readIfExists(files.certificateChainFile), readIfExists(files.privateKeyFile)]);
  if (chain === undefined || key === undefined) return false;
  try {
    const material = validateTlsCertificate(chain, files.certificateChainFile, key, files.privateKeyFile);
    const signedByCa = new X509Certificate(material.certificateChainPem).verify(new X509Certificate(ca.certificatePem).publicKey);
    const sameNames = material.sans.dnsNames.join(',') === files.endpoint.dnsNames.join(',');
    return signedByCa && sameNames && material.notAfter.getTime() - Date.now() > DEV_LEAF_MIN_REMAINING_MS;
  } catch {
    return false;
  }
}
