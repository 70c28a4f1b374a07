// The built-in certificate authority: a self-signed root kept in a directory of its own
// (`<stateDir>/ca/...`, mode 0700), created once and loaded on every later start so that proxies
// keep trusting the same root across restarts. The key is written 0600, atomically, and never logged.
import { createPrivateKey, createPublicKey, KeyObject, randomBytes, sign as signWithKey, webcrypto, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { logger, type Logger } from '../log';
import { readIfExists, writeFileAtomic } from '../util/atomic-file';
import { narrowMode } from '../util/file-mode';
import { toPem } from './der';
import { x509 } from './x509';


/** Key algorithms the CA can use. Leaves always use ECDSA P-256. */
export type CaKeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384';

const ALGORITHMS: Record<CaKeyAlgorithm, { curve: string; hash: string; nodeHash: string; signatureAlgorithmDer: Buffer }> = {
  // AlgorithmIdentifier { ecdsa-with-SHA256 (1.2.840.10045.4.3.2) } and ecdsa-with-SHA384 (...4.3.3).
  'ecdsa-p256': { curve: 'P-256', hash: 'SHA-256', nodeHash: 'sha256', signatureAlgorithmDer: Buffer.from('300a06082a8648ce3d040302', 'hex') },
  'ecdsa-p384': { curve: 'P-384', hash: 'SHA-384', nodeHash: 'sha384', signatureAlgorithmDer: Buffer.from('300a06082a8648ce3d040303', 'hex') },
};

export const CA_CERTIFICATE_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';
const DEFAULT_VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;
/** Start validity a little in the past so peers with a slightly slow clock accept it. */
export const CLOCK_SKEW_MS = 60 * 1000;

export interface CertificateAuthorityOptions {
  /** Directory holding `ca.crt` and `ca.key` (created 0700 if missing). */
  dir: string;
  /** SPIFFE trust domain; named in the subject of a newly created CA. */
  trustDomain: string;
  /** Key algorithm for a new CA (default ecdsa-p256). A loaded CA keeps its own. */
  keyAlgorithm?: CaKeyAlgorithm;
  /** Lifetime of a new CA (default about 10 years). */
  validityMs?: number;
  /** Logger (default `logger('pki-ca')`). */
  log?: Logger;
}

export class CertificateAuthority {
  /** Short content hash of the CA certificate: stable across restarts, distinct per CA. */
  readonly id: string;
  /** The CA certificate, PEM. */
  readonly certificatePem: string;
  /** The CA certificate, DER. */
  readonly certificateDer: Buffer;
  /** Serial, lower-case hex. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Subject DN as text, e.g. `CN=meshd CA example.org, O=meshd`. */
  readonly subject: string;
  /** Directory the CA lives in. */
  readonly dir: string;
  /** DER of the subject Name; every leaf's issuer field. */
  readonly subjectNameDer: Buffer;
  /** DER of an AuthorityKeyIdentifier extension naming this CA's key, for its leaves. */
  readonly authorityKeyIdentifierExtensionDer: Buffer;
  /** DER AlgorithmIdentifier of the signatures this CA makes. */
  readonly signatureAlgorithmDer: Buffer;
  readonly #privateKey: KeyObject;
  readonly #hash: string;

  private constructor(dir: string, certificateDer: Buffer, privateKey: KeyObject) {
    const cert = new x509.X509Certificate(certificateDer);
    const algorithm = (privateKey.asymmetricKeyDetails?.namedCurve === 'secp384r1') ? ALGORITHMS['ecdsa-p384'] : ALGORITHMS['ecdsa-p256'];
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
    this.dir = dir;
    this.certificateDer = certificateDer;
    this.certificatePem = toPem('CERTIFICATE', certificateDer);
    this.id = new NodeX509Certificate(certificateDer).fingerprint256.replace(/:/g, '').slice(0, 16).toLowerCase();
    this.serial = cert.serialNumber.toLowerCase();
    this.notBefore = cert.notBefore;
    this.notAfter = cert.notAfter;
    this.subject = cert.subject;
    this.subjectNameDer = Buffer.from(cert.subjectName.toArrayBuffer());
    this.authorityKeyIdentifierExtensionDer = ski ? Buffer.from(new x509.AuthorityKeyIdentifierExtension(ski.keyId).rawData) : Buffer.alloc(0);
    this.signatureAlgorithmDer = algorithm.signatureAlgorithmDer;
    this.#privateKey = privateKey;
    this.#hash = algorithm.nodeHash;
  }

  /**
   * Loads the CA in `options.dir`, or creates it there if the directory holds no CA material at
   * all. A key without its certificate (or the reverse) is refused, never overwritten: proxies may
   * trust that key. Creation cannot leave such a half: both files are written in a sibling temporary
   * directory that is renamed into place.
   */
  static async loadOrCreate(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const files = caFiles(options.dir);
    if (!(await holdsCaMaterial(options.dir))) return CertificateAuthority.createAt(options);
    return CertificateAuthority.load(options, files);
  }

  /** Loads the CA in `options.dir`; missing or damaged files are a CaMaterialError naming the file. */
  static async load(options: CertificateAuthorityOptions, files = caFiles(options.dir)): Promise<CertificateAuthority> {
    const log = options.log ?? logger('pki-ca');
    const certPem = await readIfExists(files.certificate);
    const keyPem = await readIfExists(files.key);
    if (certPem === undefined && keyPem === undefined) throw new CaMaterialError(options.dir, `${options.dir}: holds no CA (neither ${CA_CERTIFICATE_FILE} nor ${CA_KEY_FILE})`);
    if (certPem === undefined) throw new CaMaterialError(files.certificate, `${files.certificate}: CA certificate missing while its private key ${files.key} remains`);
    if (keyPem === undefined) throw new CaMaterialError(files.key, `${files.key}: CA private key missing while ${files.certificate} exists`);
    const ca = CertificateAuthority.fromPem(options.dir, files.certificate, certPem, files.key, keyPem);
    await narrowMode(options.dir, 0o700, log, 'CA directory');
    await narrowMode(files.key, 0o600, log, 'CA key file');
    log.info({ caId: ca.id, serial: ca.serial, notAfter: ca.notAfter.toISOString(), dir: options.dir }, 'loaded CA');
    return ca;
  }

  /** Creates a new CA in `options.dir`, which must not exist or be empty. */
  static async createAt(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const log = options.log ?? logger('pki-ca');
    const ca = await CertificateAuthority.generate(options, await generateKeyPair(options.keyAlgorithm ?? 'ecdsa-p256'));
    log.info({ caId: ca.id, serial: ca.serial, notAfter: ca.notAfter.toISOString(), dir: options.dir }, 'created CA');
    return ca;
  }

  /**
   * Recovery for a CA whose certificate was lost but whose key was kept: a new self-signed
   * certificate for the same key and subject. Proxies still holding the old certificate keep
   * verifying leaves, which the same key signs and name the same issuer and key identifier.
   */
  static async reissueCertificate(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const log = options.log ?? logger('pki-ca');
    const files = caFiles(options.dir);
    const keyPem = await readIfExists(files.key);
    if (keyPem === undefined) throw new CaMaterialError(files.key, `${files.key}: no CA private key to re-create the certificate for`);
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(keyPem);
    } catch {
      throw new CaMaterialError(files.key, `${files.key}: not a parsable PEM private key`);
    }
    const curve = privateKey.asymmetricKeyDetails?.namedCurve;
    if (privateKey.asymmetricKeyType !== 'ec' || (curve !== 'prime256v1' && curve !== 'secp384r1')) throw new CaMaterialError(files.key, `${files.key}: CA key must be ECDSA P-256 or P-384`);
    const algorithm: CaKeyAlgorithm = curve === 'secp384r1' ? 'ecdsa-p384' : 'ecdsa-p256';
    const ca = await CertificateAuthority.generate({ ...options, keyAlgorithm: algorithm }, await importKeyPair(privateKey, algorithm), { keepKey: true });
    log.warn({ caId: ca.id, serial: ca.serial, notAfter: ca.notAfter.toISOString(), file: files.certificate }, 're-created the CA certificate from its kept private key');
    return ca;
  }

  private static fromPem(dir: string, certFile: string, certPem: string, keyFile: string, keyPem: string): CertificateAuthority {
    let nodeCert: NodeX509Certificate;
    try {
      nodeCert = new NodeX509Certificate(certPem);
    } catch (err) {
      throw new Error(`${certFile}: not a parsable PEM certificate (${(err as Error).message})`);
    }
    if (!nodeCert.ca) throw new Error(`${certFile}: certificate is not a CA (basicConstraints CA:TRUE missing)`);
    let key: KeyObject;
    try {
      key = createPrivateKey(keyPem);
    } catch {
      // The library's message could quote the input; keep ours generic.
      throw new Error(`${keyFile}: not a parsable PEM private key`);
    }
    if (key.asymmetricKeyType !== 'ec') throw new Error(`${keyFile}: CA key must be ECDSA, found ${key.asymmetricKeyType ?? 'unknown'}`);
    if (!nodeCert.checkPrivateKey(key)) throw new Error(`${keyFile}: private key does not match ${certFile}`);
    const notAfter = new Date(nodeCert.validTo);
    if (notAfter.getTime() <= Date.now()) throw new Error(`${certFile}: CA certificate expired at ${notAfter.toISOString()}`);
    return new CertificateAuthority(dir, nodeCert.raw, key);
  }

  /**
   * Self-signs a certificate for `keys` and writes it (and, unless `keepKey`, the key) into
   * `options.dir`: a new directory is filled under a temporary name and renamed into place.
   */
  private static async generate(options: CertificateAuthorityOptions, keys: webcrypto.CryptoKeyPair, mode: { keepKey?: boolean } = {}): Promise<CertificateAuthority> {
    const algorithm = ALGORITHMS[options.keyAlgorithm ?? 'ecdsa-p256'];
    const params = { name: 'ECDSA', namedCurve: algorithm.curve, hash: algorithm.hash };
    const now = Date.now();
    const serial = randomBytes(16);
    serial[0] = (serial[0]! & 0x7f) | 0x40; // positive and without a leading zero octet
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial.toString('hex'),
      name: [{ CN: [`meshd CA ${options.trustDomain}`] }, { O: ['meshd'] }],
      notBefore: new Date(Math.floor((now - CLOCK_SKEW_MS) / 1000) * 1000),
      notAfter: new Date(Math.floor((now + (options.validityMs ?? DEFAULT_VALIDITY_MS)) / 1000) * 1000),
      keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
      signingAlgorithm: params,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as Parameters<typeof x509.SubjectKeyIdentifierExtension.create>[0]),
      ],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const certificateDer = Buffer.from(cert.rawData);
    const files = caFiles(options.dir);
    if (mode.keepKey) {
      await writeFileAtomic(files.certificate, toPem('CERTIFICATE', certificateDer), 0o644);
    } else {
      await writeNewCaDirectory(options.dir, toPem('PRIVATE KEY', pkcs8), toPem('CERTIFICATE', certificateDer));
    }
    return new CertificateAuthority(options.dir, certificateDer, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  }

  /**
   * Signs DER `data` (a TBSCertificate) and returns the DER ECDSA-Sig-Value. On the calling
   * thread: node:crypto's asynchronous sign cost ~20 µs of main-thread time just to hand a
   * signature to the libuv pool and ~47 µs of CPU in all, where signing here costs ~29 µs
   * (P-256, this 2-core machine), so issuance is faster both in CPU and in throughput.
   */
  sign(data: Uint8Array): Buffer {
    return signWithKey(this.#hash, data, this.#privateKey);
  }

  /** Keeps the key out of util.inspect and JSON: only public facts about the CA. */
  toJSON(): { id: string; serial: string; subject: string; notBefore: string; notAfter: string } {
    return { id: this.id, serial: this.serial, subject: this.subject, notBefore: this.notBefore.toISOString(), notAfter: this.notAfter.toISOString() };
  }
}

/** A CA directory's files are missing, damaged or do not belong together. */
export class CaMaterialError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'CaMaterialError';
  }
}

function caFiles(dir: string): { certificate: string; key: string } {
  return { certificate: path.join(dir, CA_CERTIFICATE_FILE), key: path.join(dir, CA_KEY_FILE) };
}

/** True when `dir` holds a CA certificate or key (a directory that does not exist holds neither). */
export async function holdsCaMaterial(dir: string): Promise<boolean> {
  const files = caFiles(dir);
  return (await exists(files.certificate)) || (await exists(files.key));
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

async function generateKeyPair(algorithm: CaKeyAlgorithm): Promise<webcrypto.CryptoKeyPair> {
  const { curve, hash } = ALGORITHMS[algorithm];
  return webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve, hash }, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
}

async function importKeyPair(privateKey: KeyObject, algorithm: CaKeyAlgorithm): Promise<webcrypto.CryptoKeyPair> {
  const params = { name: 'ECDSA', namedCurve: ALGORITHMS[algorithm].curve };
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, params, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, params, true, ['verify']),
  };
}

/**
 * Writes key and certificate into a temporary sibling of `dir` and renames it to `dir`, so a crash
 * leaves either no CA or a whole one. `dir` may exist only if empty (rename replaces an empty one).
 */
async function writeNewCaDirectory(dir: string, keyPem: string, certificatePem: string): Promise<void> {
  await fs.mkdir(path.dirname(dir), { recursive: true, mode: 0o700 });
  const temp = path.join(path.dirname(dir), `.${path.basename(dir)}.${randomBytes(6).toString('hex')}.tmp`);
  await fs.mkdir(temp, { mode: 0o700 });
  try {
    await fs.chmod(temp, 0o700); // mkdir's mode passes through the umask
    await writeFileAtomic(path.join(temp, CA_KEY_FILE), keyPem, 0o600);
    await writeFileAtomic(path.join(temp, CA_CERTIFICATE_FILE), certificatePem, 0o644);
    await fs.rename(temp, dir);
  } catch (err) {
    await fs.rm(temp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new CaMaterialError(dir, `${dir}: holds files but no CA; move them away before meshd creates a CA there`);
    throw err;
  }
  const parent = await fs.open(path.dirname(dir), 'r');
  try {
    await parent.sync();
  } finally {
    await parent.close();
  }
}
