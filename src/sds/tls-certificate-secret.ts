// A leaf's Secret resources (envoy.extensions.transport_sockets.tls.v3.Secret with a
// tls_certificate), encoded by hand. Every issuance encodes two of them (`default` and the SPIFFE
// ID), and through protobufjs (fromObject, then encode through a Writer) that was about 40 µs
// each: a tenth of a cold start's CPU per stream. The message has a fixed shape, so its bytes are
// written straight into a scratch buffer; they are byte for byte what protobufjs writes (fields in
// number order, the inline strings as UTF-8), so versions, which hash these bytes, do not change.
//
// The two secrets of a leaf differ only in their name, which comes first: the tls_certificate
// field is written once, and each name is written just before it. The bytes are handed to a
// builder that keeps its own copy (EncodedResource does), and the scratch is zeroed afterwards: it
// held a private key.
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

/** Reused between calls (one leaf's secrets are built at a time, synchronously); zeroed after each. */
let scratch = Buffer.alloc(0);
let building = false;

/** Where the parts of a leaf's secrets go: every name's secret ends with the same tls_certificate. */
interface SecretLayout {
  chainLength: number;
  keyLength: number;
  chainSource: number;
  keySource: number;
  certificate: number;
  nameLengths: number[];
  /** The tls_certificate field starts here, after room for the longest name field. */
  tlsAt: number;
  end: number;
}

function layoutOf(names: readonly string[], material: Pick<TlsCertificateMaterial, 'certificateChainPem' | 'privateKeyPem'>): SecretLayout {
  const chainLength = Buffer.byteLength(material.certificateChainPem);
  const keyLength = Buffer.byteLength(material.privateKeyPem);
  const chainSource = fieldSize(chainLength); // DataSource { inline_string }
  const keySource = fieldSize(keyLength);
  const certificate = fieldSize(chainSource) + fieldSize(keySource); // TlsCertificate
  const nameLengths = names.map((name) => Buffer.byteLength(name));
  const tlsAt = Math.max(0, ...nameLengths.map(fieldSize));
  return { chainLength, keyLength, chainSource, keySource, certificate, nameLengths, tlsAt, end: tlsAt + fieldSize(certificate) };
}

/** The size of each name's serialized Secret, as buildTlsCertificateSecrets will pass them. */
export function tlsCertificateSecretSizes(names: readonly string[], material: Pick<TlsCertificateMaterial, 'certificateChainPem' | 'privateKeyPem'>): number[] {
  const layout = layoutOf(names, material);
  return layout.nameLengths.map((length) => layout.end - layout.tlsAt + fieldSize(length));
}

/**
 * Builds, for each name, the serialized Secret `{name, tls_certificate: {certificate_chain:
 * {inline_string}, private_key: {inline_string}}}` and passes it to `build`. The bytes are valid
 * only during that call (copy what is kept); they hold the private key: never log them.
 */
export function buildTlsCertificateSecrets<T>(
  names: readonly string[],
  material: Pick<TlsCertificateMaterial, 'certificateChainPem' | 'privateKeyPem'>,
  build: (name: string, bytes: Buffer, index: number) => T,
): T[] {
  const { chainLength, keyLength, chainSource, keySource, certificate, nameLengths, tlsAt, end } = layoutOf(names, material);
  if (building) throw new Error('buildTlsCertificateSecrets: its builder must not build secrets itself');
  if (scratch.length < end) scratch = Buffer.alloc(Math.max(end, 4096));
  building = true;
  try {
    let at = tlsAt;
    scratch[at++] = SECRET_TLS_CERTIFICATE;
    at = writeVarint(scratch, at, certificate);
    scratch[at++] = TLS_CERTIFICATE_CHAIN;
    at = writeVarint(scratch, at, chainSource);
    scratch[at++] = DATA_SOURCE_INLINE_STRING;
    at = writeVarint(scratch, at, chainLength);
    at += scratch.write(material.certificateChainPem, at, 'utf8');
    scratch[at++] = TLS_PRIVATE_KEY;
    at = writeVarint(scratch, at, keySource);
    scratch[at++] = DATA_SOURCE_INLINE_STRING;
    at = writeVarint(scratch, at, keyLength);
    at += scratch.write(material.privateKeyPem, at, 'utf8');
    if (at !== end) throw new Error(`tls_certificate secret: encoded ${at - tlsAt} of ${end - tlsAt} bytes`);
    return names.map((name, i) => {
      const start = tlsAt - fieldSize(nameLengths[i]!);
      let nameAt = start;
      scratch[nameAt++] = SECRET_NAME;
      nameAt = writeVarint(scratch, nameAt, nameLengths[i]!);
      scratch.write(name, nameAt, 'utf8');
      return build(name, scratch.subarray(start, end), i);
    });
  } finally {
    scratch.fill(0, 0, end);
    building = false;
  }
}
