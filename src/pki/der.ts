// A minimal DER writer for the few structures issuance assembles per certificate. @peculiar/x509
// builds each leaf through several ASN.1 parse/serialize round trips (about 1.5 ms per leaf), so the
// issuer composes the TBSCertificate from pieces that are encoded once (names, extensions, algorithm
// identifiers, built with @peculiar/x509) and the few that change per leaf (serial, validity, key).

/** Bytes of a definite length in DER: short form below 128, else 0x80 + count, then big-endian. */
function lengthOctets(length: number): number {
  let count = 1;
  if (length >= 0x80) for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) count++;
  return count;
}

/**
 * One tag-length-value element whose content is the concatenation of `parts`, written into one
 * buffer (issuance builds a dozen of these per leaf: no intermediate copies).
 */
export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const header = 1 + lengthOctets(length);
  const out = Buffer.allocUnsafe(header + length);
  out[0] = tag;
  if (length < 0x80) {
    out[1] = length;
  } else {
    out[1] = 0x80 | (header - 2);
    for (let i = header - 1, rest = length; i >= 2; i--, rest = Math.floor(rest / 256)) out[i] = rest & 0xff;
  }
  let at = header;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
const TAG_OCTET_STRING = 0x04;
const TAG_UTF8_STRING = 0x0c;
const TAG_PRINTABLE_STRING = 0x13;
export const TAG_SEQUENCE = 0x30;
const TAG_SET = 0x31;
const TAG_UTC_TIME = 0x17;
const TAG_GENERALIZED_TIME = 0x18;

export function sequence(...parts: Uint8Array[]): Buffer {
  return tlv(TAG_SEQUENCE, ...parts);
}

export function set(...parts: Uint8Array[]): Buffer {
  return tlv(TAG_SET, ...parts);
}

export function octetString(...parts: Uint8Array[]): Buffer {
  return tlv(TAG_OCTET_STRING, ...parts);
}

/** A context-specific primitive tag, e.g. `[6] IMPLICIT IA5String` (a GeneralName URI). */
export function implicitPrimitive(tagNumber: number, content: Uint8Array): Buffer {
  return tlv(0x80 | tagNumber, content);
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** DirectoryString as @peculiar/x509 writes it: PrintableString when the text allows, else UTF8String. */
export function directoryString(text: string): Buffer {
  return tlv(PRINTABLE.test(text) ? TAG_PRINTABLE_STRING : TAG_UTF8_STRING, Buffer.from(text, 'utf8'));
}

/** A context-specific constructed tag, e.g. `[0] EXPLICIT` (number 0) or `[3]` extensions. */
export function explicit(tagNumber: number, ...parts: Uint8Array[]): Buffer {
  return tlv(0xa0 | tagNumber, ...parts);
}

/** A non-negative INTEGER from big-endian magnitude bytes (adds the sign octet when needed). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return (trimmed[0] ?? 0) & 0x80 ? tlv(TAG_INTEGER, Buffer.from([0]), trimmed) : tlv(TAG_INTEGER, trimmed);
}

const NO_UNUSED_BITS = Buffer.from([0]);

/** A BIT STRING with no unused bits. */
export function bitString(bytes: Uint8Array): Buffer {
  return tlv(TAG_BIT_STRING, NO_UNUSED_BITS, bytes);
}

function two(value: number): string {
  return value.toString().padStart(2, '0');
}

/** X.509 Time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
export function x509Time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  if (year >= 1950 && year < 2050) return tlv(TAG_UTC_TIME, Buffer.from(`${two(year % 100)}${rest}`, 'ascii'));
  return tlv(TAG_GENERALIZED_TIME, Buffer.from(`${year.toString().padStart(4, '0')}${rest}`, 'ascii'));
}

/**
 * PEM armour for DER bytes, 64 characters a line, as one flat string: the base64 is written into a
 * buffer and its lines moved apart in place, then read back as Latin-1. (Slices joined and
 * wrapped in a template made a string of pieces that every later use, 10,000 leaves' hashing and
 * encoding, had to flatten into a copy first.)
 */
export function toPem(label: string, der: Uint8Array): string {
  const header = `-----BEGIN ${label}-----\n`;
  const footer = `-----END ${label}-----\n`;
  // A view, not a copy (Buffer.from(der) would copy: two per leaf, into the pool's slabs).
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = Math.max(1, Math.ceil(base64.length / 64)); // empty DER: one empty line, as before
  const out = Buffer.allocUnsafe(header.length + base64.length + lines + footer.length);
  out.write(header, 0, 'latin1');
  out.write(base64, header.length, 'latin1');
  // From the last line back, each moves right by the newlines before it and gets its own after it.
  for (let line = lines - 1; line >= 0; line--) {
    const from = header.length + line * 64;
    const end = Math.min(from + 64, header.length + base64.length);
    out.copyWithin(from + line, from, end);
    out[end + line] = 0x0a;
  }
  out.write(footer, header.length + base64.length + lines, 'latin1');
  return out.toString('latin1');
}
