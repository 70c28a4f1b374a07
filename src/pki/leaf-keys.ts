// Leaf key pairs (ECDSA P-256) in the two encodings a leaf needs: the public key as DER
// SubjectPublicKeyInfo (it goes into the certificate) and the private key as PKCS#8 PEM (it goes
// to the proxy). OpenSSL 3's encoders for those two cost about 190 µs a key, four times the key
// generation itself; its SEC1 ("EC PRIVATE KEY") encoder costs about 17 µs, and for P-256 every
// one of these structures is fixed-length, so both encodings are assembled from the SEC1 bytes
// (byte for byte what OpenSSL's own encoders produce). Private keys stay in memory: never logged.
// The key workers generate through ECDH (OpenSSL's EC_KEY generator: the same random scalar in
// [1, n-1] and its public point), about 20 µs a key where generateKeyPairSync plus the SEC1 export
// costs about 85: that was most of a fleet rotation's CPU.
import { createECDH, generateKeyPair as generateKeyPairCallback, type ECDH, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { toPem } from './der';

const generateKeyPairAsync = promisify(generateKeyPairCallback);

/** A P-256 key pair, encoded for a leaf. */
export interface LeafKeyPair {
  /** SubjectPublicKeyInfo DER of the public key. */
  publicKeySpkiDer: Buffer;
  /** PKCS#8 PEM of the private key. Never log it; never put it in an error. */
  privateKeyPem: string;
}

/** Length of OpenSSL's SEC1 DER for a P-256 key with its public key and curve parameters. */
export const SEC1_P256_LENGTH = 121;
// ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING (32), [0] prime256v1, [1] BIT STRING publicKey }
const SEC1_HEAD = Buffer.from('30770201010420', 'hex');
const SEC1_MIDDLE = Buffer.from('a00a06082a8648ce3d030107a144034200', 'hex');
const PRIVATE_OFFSET = SEC1_HEAD.length;
const PUBLIC_OFFSET = PRIVATE_OFFSET + 32 + SEC1_MIDDLE.length;
// SubjectPublicKeyInfo { { id-ecPublicKey, prime256v1 }, BIT STRING 04||x||y }
const SPKI_HEAD = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
// PrivateKeyInfo { 0, { id-ecPublicKey, prime256v1 }, OCTET STRING ECPrivateKey without [0] }
const PKCS8_HEAD = Buffer.from('308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420', 'hex');
const PKCS8_MIDDLE = Buffer.from('a144034200', 'hex');

/** True when `sec1` has the fixed P-256 shape that leafKeyPairFromSec1 reads. */
function isP256Sec1(sec1: Uint8Array): boolean {
  return sec1.length === SEC1_P256_LENGTH
    && Buffer.compare(sec1.subarray(0, PRIVATE_OFFSET), SEC1_HEAD) === 0
    && Buffer.compare(sec1.subarray(PRIVATE_OFFSET + 32, PUBLIC_OFFSET), SEC1_MIDDLE) === 0
    && sec1[PUBLIC_OFFSET] === 0x04;
}

/** The leaf encodings of a P-256 key given as SEC1 DER; undefined if it is not of that shape. */
export function leafKeyPairFromSec1(sec1: Uint8Array): LeafKeyPair | undefined {
  if (!isP256Sec1(sec1)) return undefined;
  const privateScalar = sec1.subarray(PRIVATE_OFFSET, PRIVATE_OFFSET + 32);
  const publicPoint = sec1.subarray(PUBLIC_OFFSET);
  const pkcs8 = Buffer.concat([PKCS8_HEAD, privateScalar, PKCS8_MIDDLE, publicPoint]);
  const pair = { publicKeySpkiDer: Buffer.concat([SPKI_HEAD, publicPoint]), privateKeyPem: toPem('PRIVATE KEY', pkcs8) };
  pkcs8.fill(0);
  return pair;
}

/** SEC1 DER of a new P-256 key (what the key workers produce). */
export function generateSec1Sync(): Buffer {
  const sec1 = Buffer.alloc(SEC1_P256_LENGTH);
  writeNewSec1(sec1, 0);
  return sec1;
}

let generator: ECDH | undefined;

/** Writes a new P-256 key as SEC1 DER (SEC1_P256_LENGTH bytes) into `target` at `at`. */
export function writeNewSec1(target: Buffer, at: number): void {
  generator ??= createECDH('prime256v1');
  generator.generateKeys();
  const scalar = generator.getPrivateKey();
  writeSec1(target, at, scalar, generator.getPublicKey());
  scalar.fill(0);
}

/**
 * SEC1 DER of a P-256 key from its private scalar (big-endian, as ECDH gives it: without leading
 * zero octets) and its uncompressed public point (65 bytes), as OpenSSL's SEC1 encoder writes it.
 */
export function writeSec1(target: Buffer, at: number, scalar: Uint8Array, publicPoint: Uint8Array): void {
  if (scalar.length > 32 || publicPoint.length !== 65 || publicPoint[0] !== 0x04) throw new Error('not a P-256 key (scalar of at most 32 bytes, uncompressed point)');
  target.set(SEC1_HEAD, at);
  // SEC1 holds the scalar as exactly 32 octets: left-padded with zeros.
  const scalarAt = at + PRIVATE_OFFSET;
  target.fill(0, scalarAt, scalarAt + 32 - scalar.length);
  target.set(scalar, scalarAt + 32 - scalar.length);
  target.set(SEC1_MIDDLE, scalarAt + 32);
  target.set(publicPoint, at + PUBLIC_OFFSET);
}

function exportSec1(privateKey: KeyObject): Buffer {
  return privateKey.export({ type: 'sec1', format: 'der' });
}

/** A new key pair generated on the libuv thread pool (used when no pooled key is at hand). */
export async function generateLeafKeyPair(): Promise<LeafKeyPair> {
  const { privateKey, publicKey } = await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' });
  const sec1 = exportSec1(privateKey);
  const pair = leafKeyPairFromSec1(sec1);
  sec1.fill(0);
  // Another OpenSSL could encode differently: then its own encoders, slower but certain.
  return pair ?? {
    publicKeySpkiDer: publicKey.export({ type: 'spki', format: 'der' }),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
