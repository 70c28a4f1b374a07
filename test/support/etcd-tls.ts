// Certificates for an etcd served over TLS in tests, made at run time: a CA, the members'
// server certificate (127.0.0.1 and localhost), a client certificate for --client-cert-auth, and
// an unrelated CA (a client trusting it must fail the handshake). Keys are written 0600.
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { x509 } from '../../src/pki/x509';

export interface EtcdTlsFiles {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** A CA that signed none of the above. */
  otherCaFile: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
type Keys = webcrypto.CryptoKeyPair;
type GeneratorKeys = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];
type GeneratorKey = GeneratorKeys['publicKey'];

function serial(): string {
  return randomBytes(12).toString('hex').replace(/^[89a-f]/, '1');
}

async function newKeys(): Promise<Keys> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as Keys;
}

async function keyPem(keys: Keys): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

async function selfSignedCa(name: string): Promise<{ cert: x509.X509Certificate; keys: Keys }> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 24 * 3600_000),
    keys: keys as unknown as GeneratorKeys, signingAlgorithm: ALGORITHM,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return { cert, keys };
}

async function leaf(ca: { cert: x509.X509Certificate; keys: Keys }, name: string, usages: string[], sans: x509.JsonGeneralName[]): Promise<{ certPem: string; keyPem: string }> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: `CN=${name}`, issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 24 * 3600_000),
    publicKey: keys.publicKey as unknown as GeneratorKey,
    signingKey: ca.keys.privateKey as unknown as GeneratorKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      ...(sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys) };
}

/** Writes a fresh set of etcd TLS files into `dir`. */
export async function makeEtcdTls(dir: string): Promise<EtcdTlsFiles> {
  fs.mkdirSync(dir, { recursive: true });
  const ca = await selfSignedCa('etcd test CA');
  const other = await selfSignedCa('unrelated CA');
  const server = await leaf(ca, 'etcd', ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], [{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'localhost' }]);
  const client = await leaf(ca, 'meshd', ['1.3.6.1.5.5.7.3.2'], []);
  const files: EtcdTlsFiles = {
    caFile: path.join(dir, 'ca.pem'), serverCertFile: path.join(dir, 'server.pem'), serverKeyFile: path.join(dir, 'server-key.pem'),
    clientCertFile: path.join(dir, 'client.pem'), clientKeyFile: path.join(dir, 'client-key.pem'), otherCaFile: path.join(dir, 'other-ca.pem'),
  };
  fs.writeFileSync(files.caFile, ca.cert.toString('pem'));
  fs.writeFileSync(files.otherCaFile, other.cert.toString('pem'));
  fs.writeFileSync(files.serverCertFile, server.certPem);
  fs.writeFileSync(files.serverKeyFile, server.keyPem, { mode: 0o600 });
  fs.writeFileSync(files.clientCertFile, client.certPem);
  fs.writeFileSync(files.clientKeyFile, client.keyPem, { mode: 0o600 });
  return files;
}
