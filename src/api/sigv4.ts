// AWS Signature Version 4, checked on the server: rebuild the canonical request from what arrived,
// derive the signing key from the caller's secret, compare signatures in constant time. A request
// is refused when it is unsigned, signed with an unknown key or for another region or service,
// signed wrongly, too far from now (expired or post-dated), or a replay of one already accepted.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors';

/** What arrived, as the signature covers it. */
export interface SignedRequest {
  readonly method: string;
  /** The raw request target: path and query as sent, still percent-encoded. */
  readonly url: string;
  /** Header names in lower case; repeated headers joined with `,`. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface VerifyOptions {
  readonly region: string;
  readonly service: string;
  /** The secret of an access key id, if meshd knows it. */
  readonly secretOf: (accessKeyId: string) => string | undefined;
  /** How far `x-amz-date` may be from now (AWS: 5 minutes). */
  readonly maxSkewMs: number;
  readonly now?: () => number;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

// RFC 3986 encoding, as the signers do it: encodeURIComponent plus !'()*.
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    return text;
  }
}

/** Non-S3 services sign the path encoded a second time, after removing empty, `.` and `..` segments. */
export function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `/${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

/** Query parameters decoded, re-encoded the one canonical way, sorted by name then value. */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  return rawQuery.split('&').filter((pair) => pair !== '').map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    return [escapeUri(safeDecode(name)), escapeUri(safeDecode(value))] as const;
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`).join('&');
}

function header(request: SignedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

interface Authorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: string[];
  readonly signature: string;
}

function parseAuthorization(value: string): Authorization {
  if (!value.startsWith(`${ALGORITHM} `)) {
    throw new ApiError('IncompleteSignatureException', `Authorization header requires the ${ALGORITHM} algorithm`);
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  const missing = [['Credential', credential], ['SignedHeaders', signedHeaders], ['Signature', signature]].filter(([, v]) => !v).map(([k]) => k);
  if (missing.length > 0) throw new ApiError('IncompleteSignatureException', `Authorization header requires ${missing.join(', ')}`);
  const scope = credential!.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    throw new ApiError('IncompleteSignatureException', 'Credential must be ACCESS_KEY_ID/DATE/REGION/SERVICE/aws4_request');
  }
  return { accessKeyId: scope[0]!, date: scope[1]!, region: scope[2]!, service: scope[3]!, signedHeaders: signedHeaders!.split(';'), signature: signature! };
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

// x-amz-date: 20260101T120000Z
function parseAmzDate(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/** The signature's verdict: the access key id it was made with. Throws the 403 to answer otherwise. */
export function verifySignature(request: SignedRequest, options: VerifyOptions): { accessKeyId: string; signature: string; signedAt: number } {
  const authorization = header(request, 'authorization');
  if (!authorization) {
    throw new ApiError('MissingAuthenticationTokenException', 'Missing Authentication Token: sign requests with AWS Signature Version 4 and a key from `meshd api-keys create`');
  }
  const auth = parseAuthorization(authorization);
  const secret = options.secretOf(auth.accessKeyId);
  if (secret === undefined) throw new ApiError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (auth.service !== options.service) throw new ApiError('InvalidSignatureException', `Credential should be scoped to correct service: '${options.service}'.`);
  if (auth.region !== options.region) throw new ApiError('InvalidSignatureException', `Credential should be scoped to a valid region: '${options.region}'.`);
  const amzDate = header(request, 'x-amz-date');
  const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || signedAt === undefined || !auth.signedHeaders.includes('x-amz-date')) {
    throw new ApiError('IncompleteSignatureException', 'a signed X-Amz-Date header (YYYYMMDDTHHMMSSZ) is required');
  }
  if (!amzDate.startsWith(auth.date)) throw new ApiError('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate.slice(0, 8)}'`);
  if (!auth.signedHeaders.includes('host')) throw new ApiError('IncompleteSignatureException', 'the host header must be signed');
  const now = (options.now ?? Date.now)();
  if (Math.abs(now - signedAt) > options.maxSkewMs) {
    const minutes = Math.round(options.maxSkewMs / 60_000);
    throw new ApiError('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${new Date(now - options.maxSkewMs).toISOString()} (${new Date(now).toISOString()} - ${minutes} min.)`
      .replace(/is now earlier than/, signedAt > now ? 'is now later than' : 'is now earlier than'));
  }
  const [rawPath, rawQuery = ''] = splitTarget(request.url);
  const payloadHash = sha256Hex(request.body);
  const claimedHash = header(request, 'x-amz-content-sha256');
  if (claimedHash !== undefined && claimedHash !== payloadHash) {
    throw new ApiError('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.');
  }
  const canonicalHeaders = auth.signedHeaders.map((name) => `${name}:${(header(request, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [
    request.method.toUpperCase(), canonicalPath(rawPath), canonicalQuery(rawQuery), canonicalHeaders, auth.signedHeaders.join(';'), payloadHash,
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, auth.date), auth.region), auth.service), 'aws4_request');
  const expected = hmac(signingKey, stringToSign);
  const given = Buffer.from(auth.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ApiError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
  return { accessKeyId: auth.accessKeyId, signature: auth.signature, signedAt };
}

function splitTarget(url: string): [string, string?] {
  const q = url.indexOf('?');
  return q < 0 ? [url] : [url.slice(0, q), url.slice(q + 1)];
}

/**
 * Signatures accepted recently: the same signature twice is a replay. A signature is only valid
 * within the clock skew window, so it is remembered for twice that long and then forgotten.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs: number, private readonly maxEntries = 100_000) {}

  /** Records the signature; throws if it was seen before. */
  check(signature: string, signedAt: number, now = Date.now()): void {
    for (const [seen, at] of this.seen) {
      if (at >= now - 2 * this.windowMs && this.seen.size <= this.maxEntries) break;
      this.seen.delete(seen);
    }
    if (this.seen.has(signature)) throw new ApiError('InvalidSignatureException', 'Signature has already been used: a signed request is accepted once (sign each request anew).');
    this.seen.set(signature, Math.max(signedAt, now));
  }
}
