// Checks PEM material read from disk before it may replace what is being served: complete blocks,
// parsable certificates and key, the key matching the leaf, every certificate valid now. Errors
// carry the file and a reason written here, never text from the input (it could be key material).
import { createPrivateKey, KeyObject, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { toPem } from './der';
import { contentVersion, type SubjectAltNames, type TlsCertificateMaterial, type TrustBundleMaterial } from './types';
import { x509 } from './x509';

/** A file whose contents were refused, and why. */
export class MaterialError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'MaterialError';
  }
}

interface PemBlock {
  label: string;
  der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BASE64 = /^[A-Za-z0-9+/=\s]*$/;

/** Splits PEM text into blocks; a block without its END line (a half-written file) is an error. */
function pemBlocks(text: string, file: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [, label, body, endLabel] = match as unknown as [string, string, string, string];
    if (label !== endLabel) throw new MaterialError(file, `PEM block BEGIN ${label} ends with END ${endLabel}`);
    if (!BASE64.test(body)) throw new MaterialError(file, `PEM block ${label} ${blocks.length + 1} is not valid base64`);
    blocks.push({ label, der: Buffer.from(body.replace(/\s+/g, ''), 'base64') });
  }
  const begins = text.match(/-----BEGIN /g)?.length ?? 0;
  if (begins === 0) throw new MaterialError(file, text.trim() === '' ? 'file is empty' : 'no PEM block found');
  if (begins !== blocks.length) throw new MaterialError(file, 'incomplete PEM block (file truncated or still being written)');
  return blocks;
}

function parseCertificates(text: string, file: string): NodeX509Certificate[] {
  const blocks = pemBlocks(text, file);
  return blocks.map((block, i) => {
    if (block.label !== 'CERTIFICATE') throw new MaterialError(file, `PEM block ${i + 1} is ${block.label}, expected CERTIFICATE`);
    try {
      return new NodeX509Certificate(block.der);
    } catch {
      throw new MaterialError(file, `certificate ${i + 1} is not a parsable X.509 certificate`);
    }
  });
}

/** Why a certificate is not valid at `now`, or undefined if it is. */
function validityProblem(cert: NodeX509Certificate, now: number): string | undefined {
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (now < notBefore) return `not yet valid (notBefore ${new Date(notBefore).toISOString()})`;
  if (now > notAfter) return `expired (notAfter ${new Date(notAfter).toISOString()})`;
  return undefined;
}

function sansOf(der: Buffer): SubjectAltNames {
  const sans: SubjectAltNames = { uris: [], dnsNames: [] };
  let extension: InstanceType<typeof x509.SubjectAlternativeNameExtension> | null;
  try {
    extension = new x509.X509Certificate(der).getExtension(x509.SubjectAlternativeNameExtension);
  } catch {
    return sans; // Node accepted the certificate; an extension the library cannot read is not fatal
  }
  for (const name of extension?.names.items ?? []) {
    if (name.type === 'url') sans.uris.push(name.value);
    if (name.type === 'dns') sans.dnsNames.push(name.value);
  }
  return sans;
}

/** Validates a certificate chain file's and key file's contents as one TLS certificate. */
export function validateTlsCertificate(chainText: string, chainFile: string, keyText: string, keyFile: string, now = Date.now()): TlsCertificateMaterial {
  const chain = parseCertificates(chainText, chainFile);
  const keyBlocks = pemBlocks(keyText, keyFile);
  if (keyBlocks.length !== 1 || !keyBlocks[0]!.label.endsWith('PRIVATE KEY')) throw new MaterialError(keyFile, 'expected exactly one PEM PRIVATE KEY block');
  let key: KeyObject;
  try {
    const keyBlock = keyBlocks[0]!;
    key = createPrivateKey(toPem(keyBlock.label, keyBlock.der));
  } catch {
    throw new MaterialError(keyFile, 'private key is not parsable');
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) throw new MaterialError(keyFile, `private key does not match the certificate in ${chainFile}`);
  chain.forEach((cert, i) => {
    const problem = validityProblem(cert, now);
    if (problem) throw new MaterialError(chainFile, `certificate ${i + 1} (serial ${cert.serialNumber.toLowerCase()}) is ${problem}`);
  });
  const certificateChainPem = chain.map((cert) => toPem('CERTIFICATE', cert.raw)).join('');
  return {
    certificateChainPem,
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    serial: leaf.serialNumber.toLowerCase(),
    notBefore: new Date(Date.parse(leaf.validFrom)),
    notAfter: new Date(Date.parse(leaf.validTo)),
    sans: sansOf(leaf.raw),
    version: contentVersion(certificateChainPem),
  };
}

/** Validates a CA bundle file: parsable certificates, at least one of them valid now. */
export function validateTrustBundle(text: string, file: string, now = Date.now()): TrustBundleMaterial {
  const cas = parseCertificates(text, file);
  const problems = cas.map((cert) => validityProblem(cert, now));
  if (problems.every((problem) => problem !== undefined)) throw new MaterialError(file, `no CA certificate is valid now (first: ${problems[0]!})`);
  const trustedCaPem = cas.map((cert) => toPem('CERTIFICATE', cert.raw)).join('');
  return { trustedCaPem, caSerials: cas.map((cert) => cert.serialNumber.toLowerCase()), version: contentVersion(trustedCaPem) };
}
