// The built-in certificate authority: a self-signed root kept in a directory of its own
// (`<stateDir>/ca/...`, mode 0700), created once and loaded on every later start so that proxies
// keep trusting the same root across restarts. The key is written 0600, atomically, and never logged.
import { createPrivateKey, KeyObject, randomBytes, sign as signCallback, webcrypto, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { logger, type Logger } from '../log';
import { ensurePrivateDir, readIfExists, writeFileAtomic } from '../util/atomic-file';
import { toPem } from './der';
import { x509 } from './x509';

const signAsync = promisify(signCallback);

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

  /** Loads the CA in `options.dir`, or creates it there if the directory holds none. */
  static async loadOrCreate(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const log = options.log ?? logger('pki-ca');
    await ensurePrivateDir(options.dir);
    const certFile = path.join(options.dir, CA_CERTIFICATE_FILE);
    const keyFile = path.join(options.dir, CA_KEY_FILE);
    const certPem = await readIfExists(certFile);
    // The key is written before the certificate, so a certificate without a key is damage, while a
    // key without a certificate is an interrupted creation that nothing can have trusted yet.
    if (certPem === undefined) {
      const ca = await CertificateAuthority.create(options, certFile, keyFile);
      log.info({ caId: ca.id, serial: ca.serial, notAfter: ca.notAfter.toISOString(), dir: options.dir }, 'created CA');
      return ca;
    }
    const keyPem = await readIfExists(keyFile);
    if (keyPem === undefined) throw new Error(`${keyFile}: CA private key missing while ${certFile} exists`);
    const ca = CertificateAuthority.fromPem(options.dir, certFile, certPem, keyFile, keyPem);
    const mode = (await fs.stat(keyFile)).mode & 0o777;
    if (mode !== 0o600) {
      await fs.chmod(keyFile, 0o600);
      log.warn({ file: keyFile, mode: mode.toString(8) }, 'CA key file had a wider mode than 0600; narrowed it');
    }
    log.info({ caId: ca.id, serial: ca.serial, notAfter: ca.notAfter.toISOString(), dir: options.dir }, 'loaded CA');
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

  private static async create(options: CertificateAuthorityOptions, certFile: string, keyFile: string): Promise<CertificateAuthority> {
    const algorithm = ALGORITHMS[options.keyAlgorithm ?? 'ecdsa-p256'];
    const params = { name: 'ECDSA', namedCurve: algorithm.curve, hash: algorithm.hash };
    const keys = await webcrypto.subtle.generateKey(params, true, ['sign', 'verify']);
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
    await writeFileAtomic(keyFile, toPem('PRIVATE KEY', pkcs8), 0o600);
    await writeFileAtomic(certFile, toPem('CERTIFICATE', certificateDer), 0o644);
    return new CertificateAuthority(options.dir, certificateDer, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  }

  /** Signs DER `data` (a TBSCertificate) and returns the DER ECDSA-Sig-Value. Runs on the thread pool. */
  signAsync(data: Uint8Array): Promise<Buffer> {
    return signAsync(this.#hash, data, this.#privateKey);
  }

  /** Keeps the key out of util.inspect and JSON: only public facts about the CA. */
  toJSON(): { id: string; serial: string; subject: string; notBefore: string; notAfter: string } {
    return { id: this.id, serial: this.serial, subject: this.subject, notBefore: this.notBefore.toISOString(), notAfter: this.notAfter.toISOString() };
  }
}
