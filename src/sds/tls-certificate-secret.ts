// A leaf's Secret resource (envoy.extensions.transport_sockets.tls.v3.Secret with a tls_certificate),
// encoded by hand. Every issuance encodes two of them (`default` and the SPIFFE ID), and through
// protobufjs (fromObject, then encode through a Writer) that was about 40 µs each: a tenth of a
// cold start's CPU per stream. The message has a fixed shape, so its bytes are written straight
// into one buffer of the exact size; they are byte for byte what protobufjs writes (fields in
// number order, the inline strings as UTF-8), so versions, which hash these bytes, do not change.
import type { TlsCertificateMaterial } from '../pki';

// Secret: name = 1, tls_certificate = 2. TlsCertificate: certificate_chain = 1, private_key = 2.
// DataSource: inline_string = 3. All length-delimited (wire type 2), all tags one byte.
const SECRET_NAME = (1 << 3) | 2;
const SECRET_TLS_CERTIFICATE = (2 << 3) | 2;
const TLS_CERTIFICATE_CHAIN = (1 << 3) | 2;
const TLS_PRIVATE_KEY = (2 << 3) | 2;
const DATA_SOURCE_INLINE_STRING = (3 << 3) | 2;

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) size++;
  return size;
}

function writeVarint(target: Buffer, at: number, value: number): number {
  let rest = value >>> 0;
  let next = at;
  while (rest >= 0x80) {
    target[next++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  target[next++] = rest;
  return next;
}

/** Size of a one-byte-tag length-delimited field whose payload is `length` bytes. */
function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/**
 * The serialized Secret `{name, tls_certificate: {certificate_chain: {inline_string},
 * private_key: {inline_string}}}` for a certificate and its key. The key is in the returned bytes
 * only: never log them.
 */
export function encodeTlsCertificateSecret(name: string, material: Pick<TlsCertificateMaterial, 'certificateChainPem' | 'privateKeyPem'>): Buffer {
  const nameLength = Buffer.byteLength(name);
  const chainLength = Buffer.byteLength(material.certificateChainPem);
  const keyLength = Buffer.byteLength(material.privateKeyPem);
  const chainSource = fieldSize(chainLength); // DataSource { inline_string }
  const keySource = fieldSize(keyLength);
  const certificate = fieldSize(chainSource) + fieldSize(keySource); // TlsCertificate
  const out = Buffer.allocUnsafe(fieldSize(nameLength) + fieldSize(certificate));
  let at = 0;
  out[at++] = SECRET_NAME;
  at = writeVarint(out, at, nameLength);
  at += out.write(name, at, 'utf8');
  out[at++] = SECRET_TLS_CERTIFICATE;
  at = writeVarint(out, at, certificate);
  out[at++] = TLS_CERTIFICATE_CHAIN;
  at = writeVarint(out, at, chainSource);
  out[at++] = DATA_SOURCE_INLINE_STRING;
  at = writeVarint(out, at, chainLength);
  at += out.write(material.certificateChainPem, at, 'utf8');
  out[at++] = TLS_PRIVATE_KEY;
  at = writeVarint(out, at, keySource);
  out[at++] = DATA_SOURCE_INLINE_STRING;
  at = writeVarint(out, at, keyLength);
  at += out.write(material.privateKeyPem, at, 'utf8');
  if (at !== out.length) throw new Error(`tls_certificate secret ${name}: encoded ${at} of ${out.length} bytes`);
  return out;
}
