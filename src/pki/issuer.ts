// Leaf issuance for mesh endpoints. Each leaf gets a fresh P-256 key, exactly one SPIFFE URI SAN
// (the endpoint's default identity, or the one its spec assigns) plus the endpoint's DNS names,
// serverAuth+clientAuth and a random serial.
//
// Speed: @peculiar/x509's generator costs about 1.7 ms a leaf, nearly all of it asn1js
// (parsing every extension, the names and the key back from DER, serializing the TBS twice and
// re-parsing the finished certificate). Here the parts that do not change per leaf (issuer name,
// algorithm, extensions) are built once with @peculiar/x509 and kept as DER; per endpoint the
// subject and SANs are encoded by hand (der.ts: 10,000 distinct endpoints after a restart cost
// about 150 µs each through asn1js) and cached; per leaf only serial, validity and key. The key
// comes from the leaf key pool (generated ahead on worker threads, key-pool.ts); the signature is
// made on this thread (see CertificateAuthority.sign for why not on the libuv thread pool).
import { randomBytes } from 'node:crypto';
import type { CertificateAuthority } from './ca';
import { CLOCK_SKEW_MS } from './ca';
import { bitString, directoryString, explicit, implicitPrimitive, octetString, sequence, set, toPem, unsignedInteger, x509Time } from './der';
import { contentVersion, leafSpiffeIdFor, type IssuedLeaf, type MeshEndpoint } from './types';
import { sharedLeafKeyPool } from './key-pool';
import { x509 } from './x509';

export const DEFAULT_LEAF_TTL_MS = 24 * 3600 * 1000;
const MIN_LEAF_TTL_MS = 1000;

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_SPIFFE_ID_BYTES = 2048;
const DNS_NAME = /^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;

const VERSION_3 = explicit(0, unsignedInteger(Buffer.from([2])));
// Extensions every leaf carries, encoded once.
const LEAF_EXTENSIONS = [
  new x509.BasicConstraintsExtension(false, undefined, true),
  new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
  new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
].map((extension) => Buffer.from(extension.rawData));
// Object identifiers (DER, tag included): commonName, organizationName, subjectAltName.
const OID_COMMON_NAME = Buffer.from('0603550403', 'hex');
const OID_ORGANIZATION = Buffer.from('060355040a', 'hex');
const OID_SUBJECT_ALT_NAME = Buffer.from('0603551d11', 'hex');
// GeneralName choices: [2] dNSName, [6] uniformResourceIdentifier (both IA5String).
const GENERAL_NAME_DNS = 2;
const GENERAL_NAME_URI = 6;

export interface IssueOptions {
  /** SPIFFE trust domain for the URI SAN. */
  trustDomain: string;
  /** Lifetime (default 24 h; at least 1 s). Clipped to the CA's own notAfter. */
  ttlMs?: number;
  /** Clock override, for tests of validity arithmetic. */
  now?: Date;
}

/** Per-endpoint DER parts (subject name and SAN extension), cached because they rarely change. */
interface EndpointParts {
  spiffeId: string;
  subjectDer: Buffer;
  sanExtensionDer: Buffer;
}

const MAX_CACHED_ENDPOINTS = 50_000;
const endpointParts = new Map<string, EndpointParts>();

/** Checks an endpoint and trust domain; throws an error that names the bad field. */
export function validateEndpoint(trustDomain: string, endpoint: MeshEndpoint): void {
  if (!TRUST_DOMAIN.test(trustDomain)) throw new Error(`trust domain "${trustDomain}": must be lower-case letters, digits, '.', '-' or '_'`);
  if (endpoint.kind !== 'virtualNode' && endpoint.kind !== 'virtualGateway') throw new Error(`endpoint kind "${String(endpoint.kind)}": must be virtualNode or virtualGateway`);
  for (const field of ['mesh', 'name'] as const) {
    if (!PATH_SEGMENT.test(endpoint[field])) throw new Error(`endpoint ${field} "${endpoint[field]}": must be letters, digits, '.', '-' or '_'`);
  }
  for (const dns of endpoint.dnsNames) {
    if (dns.length > 253 || !DNS_NAME.test(dns)) throw new Error(`endpoint ${endpoint.mesh}/${endpoint.name}: DNS name "${dns}" is not a valid host name`);
  }
  if (endpoint.spiffeId !== undefined) validateAssignedSpiffeId(trustDomain, endpoint, endpoint.spiffeId);
}

/** An assigned SPIFFE ID must be in this CA's trust domain and in SPIFFE ID syntax (it is the URI SAN). */
function validateAssignedSpiffeId(trustDomain: string, endpoint: MeshEndpoint, id: string): void {
  const where = `endpoint ${endpoint.mesh}/${endpoint.name}: SPIFFE ID "${id}"`;
  const prefix = `spiffe://${trustDomain}/`;
  if (!id.startsWith(prefix)) throw new Error(`${where}: must be in trust domain ${trustDomain} (spiffe://${trustDomain}/<path>)`);
  if (Buffer.byteLength(id) > MAX_SPIFFE_ID_BYTES) throw new Error(`${where}: longer than ${MAX_SPIFFE_ID_BYTES} bytes`);
  for (const segment of id.slice(prefix.length).split('/')) {
    if (!PATH_SEGMENT.test(segment) || segment === '.' || segment === '..') throw new Error(`${where}: path segment "${segment}" is not SPIFFE ID syntax`);
  }
}

function partsFor(trustDomain: string, endpoint: MeshEndpoint): EndpointParts {
  const cacheKey = `${trustDomain}\0${endpoint.mesh}\0${endpoint.kind}\0${endpoint.name}\0${endpoint.spiffeId ?? ''}\0${endpoint.dnsNames.join('\0')}`;
  let parts = endpointParts.get(cacheKey);
  if (parts) return parts;
  validateEndpoint(trustDomain, endpoint);
  const spiffeId = leafSpiffeIdFor(trustDomain, endpoint);
  // One allocation of their own for both: kept for as long as the endpoint is cached, they must not
  // pin the pool slab they were cut from (and one backing store costs less than two).
  const subject = subjectNameDer(endpoint);
  const both = ownCopy(Buffer.concat([subject, subjectAltNameDer(spiffeId, endpoint.dnsNames)]));
  parts = { spiffeId, subjectDer: both.subarray(0, subject.length), sanExtensionDer: both.subarray(subject.length) };
  if (endpointParts.size >= MAX_CACHED_ENDPOINTS) endpointParts.delete(endpointParts.keys().next().value as string);
  endpointParts.set(cacheKey, parts);
  return parts;
}

function ownCopy(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

/** The leaf's subject: CN = the endpoint's name, O = `meshd <mesh>` (each at most 64 characters). */
export function subjectNameDer(endpoint: Pick<MeshEndpoint, 'mesh' | 'name'>): Buffer {
  const attribute = (oid: Buffer, value: string): Buffer => set(sequence(oid, directoryString(value)));
  return sequence(attribute(OID_COMMON_NAME, endpoint.name.slice(0, 64)), attribute(OID_ORGANIZATION, `meshd ${endpoint.mesh}`.slice(0, 64)));
}

/** A non-critical subjectAltName extension: the SPIFFE ID as URI, then the DNS names (validated ASCII). */
export function subjectAltNameDer(spiffeId: string, dnsNames: readonly string[]): Buffer {
  const generalName = (tag: number, value: string): Buffer => implicitPrimitive(tag, Buffer.from(value, 'latin1'));
  const names = sequence(generalName(GENERAL_NAME_URI, spiffeId), ...dnsNames.map((name) => generalName(GENERAL_NAME_DNS, name)));
  return sequence(OID_SUBJECT_ALT_NAME, octetString(names));
}

/** 16 random bytes for a serial, cut from a buffer refilled 4 KiB at a time (one call per 256 leaves). */
function randomSerialBytes(): Buffer {
  if (randomAt + 16 > random.length) {
    random = randomBytes(4096);
    randomAt = 0;
  }
  randomAt += 16;
  return random.subarray(randomAt - 16, randomAt);
}
let random = Buffer.alloc(0);
let randomAt = 0;

/** Issues a leaf certificate and key for `endpoint`, signed by `ca`. */
export async function issueLeaf(ca: CertificateAuthority, endpoint: MeshEndpoint, options: IssueOptions): Promise<IssuedLeaf> {
  const ttlMs = options.ttlMs ?? DEFAULT_LEAF_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs < MIN_LEAF_TTL_MS) throw new Error(`leaf TTL ${ttlMs} ms: must be at least ${MIN_LEAF_TTL_MS} ms`);
  const parts = partsFor(options.trustDomain, endpoint);
  const now = (options.now ?? new Date()).getTime();
  // X.509 times have whole seconds: round notBefore down and notAfter down, within the CA's validity.
  const notBefore = new Date(Math.max(Math.floor((now - CLOCK_SKEW_MS) / 1000) * 1000, ca.notBefore.getTime()));
  const notAfter = new Date(Math.min(Math.floor((now + ttlMs) / 1000) * 1000, ca.notAfter.getTime()));
  if (notAfter.getTime() <= now) throw new Error(`CA ${ca.id} (${ca.dir}) expires at ${ca.notAfter.toISOString()}: cannot issue a leaf that is valid now`);

  const serial = randomSerialBytes();
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, no leading zero octet, 126 random bits
  const keys = await sharedLeafKeyPool().take();
  const tbs = sequence(
    VERSION_3,
    unsignedInteger(serial),
    ca.signatureAlgorithmDer,
    ca.subjectNameDer,
    sequence(x509Time(notBefore), x509Time(notAfter)),
    parts.subjectDer,
    keys.publicKeySpkiDer,
    explicit(3, sequence(...LEAF_EXTENSIONS, ca.authorityKeyIdentifierExtensionDer, parts.sanExtensionDer)),
  );
  const signature = ca.sign(tbs);
  const certificateChainPem = toPem('CERTIFICATE', sequence(tbs, ca.signatureAlgorithmDer, bitString(signature)));
  return {
    certificateChainPem,
    privateKeyPem: keys.privateKeyPem,
    serial: serial.toString('hex'),
    notBefore,
    notAfter,
    sans: { uris: [parts.spiffeId], dnsNames: [...endpoint.dnsNames] },
    version: contentVersion(certificateChainPem),
    caId: ca.id,
    endpoint: { ...endpoint, dnsNames: [...endpoint.dnsNames] },
    spiffeId: parts.spiffeId,
  };
}
