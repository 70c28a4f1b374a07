// String formats named by protoc-gen-validate's StringRules (hostname, ip, uri, ...) and its
// well-known HTTP header regexes, and the RE2-to-JavaScript pattern translation.
import * as net from 'node:net';
import { logger } from '../../log';

const log = logger('pgv');

/** RFC 1034 host name as protoc-gen-validate checks it: labels of letters, digits and hyphens. */
export function isHostname(value: string): boolean {
  const host = value.endsWith('.') ? value.slice(0, -1) : value;
  if (host.length === 0 || host.length > 253) return false;
  return host.split('.').every((label) => /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(label));
}

/** A bare addr-spec (local@host); display names are not accepted. */
export function isEmail(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at <= 0 || at > 64 || value.length > 254) return false;
  const local = value.slice(0, at);
  return /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+$/.test(local) && isHostname(value.slice(at + 1));
}

/** An absolute URI: a scheme and a parseable remainder. */
export function isAbsoluteUri(value: string): boolean {
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(value)) return false;
  return URL.canParse(value);
}

/** A URI reference: absolute or relative. */
export function isUriReference(value: string): boolean {
  return !/[\s<>"{}|\\^`]/.test(value) && URL.canParse(value, 'http://base.invalid/');
}

/** An RFC 4122 textual UUID. */
export function isUuid(value: string): boolean {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value);
}

/** Any IP address, v4 or v6. */
export function isIp(value: string): boolean {
  return net.isIP(value) !== 0;
}

export const isIpv4 = (value: string): boolean => net.isIPv4(value);
export const isIpv6 = (value: string): boolean => net.isIPv6(value);

// RFC 7230 token characters, optionally behind ':' for HTTP/2 pseudo-headers.
const STRICT_HEADER_NAME = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
// Field content: no control characters other than horizontal tab.
const STRICT_HEADER_VALUE = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
// Non-strict mode only forbids what would break the framing: NUL, CR and LF.
const LOOSE_HEADER = /^[^\u0000\u000A\u000D]*$/;

/** A check for validate.KnownRegex, or undefined for UNKNOWN. */
export function wellKnownRegex(name: unknown, strict: boolean): { test: RegExp; message: string } | undefined {
  if (name === 'HTTP_HEADER_NAME' || name === 1) {
    return { test: strict ? STRICT_HEADER_NAME : LOOSE_HEADER, message: 'value must be a valid HTTP header name' };
  }
  if (name === 'HTTP_HEADER_VALUE' || name === 2) {
    return { test: strict ? STRICT_HEADER_VALUE : LOOSE_HEADER, message: 'value must be a valid HTTP header value' };
  }
  return undefined;
}

const untranslatable = new Set<string>();

/**
 * A JavaScript RegExp that matches the whole input the way RE2::FullMatch does (Envoy is C++), or
 * undefined when the RE2 pattern uses syntax JavaScript lacks; such a rule is then not checked
 * (logged once) instead of being approximated wrongly.
 */
export function fullMatchRegExp(re2: string): RegExp | undefined {
  let source = re2.replace(/\(\?P</g, '(?<').replace(/\\z/g, '$').replace(/\\A/g, '^');
  let flags = 'u';
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    if (inline[1]!.includes('U')) return reportUntranslatable(re2);
    flags += inline[1]!.replace('m', '');
    source = source.slice(inline[0].length);
  }
  for (const tryFlags of [flags, flags.replace('u', '')]) {
    try {
      return new RegExp(`^(?:${source})$`, tryFlags);
    } catch {
      // Unicode mode rejects some escapes RE2 allows (e.g. `\~`); retry without it.
    }
  }
  return reportUntranslatable(re2);
}

function reportUntranslatable(re2: string): undefined {
  if (!untranslatable.has(re2)) {
    untranslatable.add(re2);
    log.warn({ pattern: re2 }, 'RE2 pattern has no JavaScript equivalent; its rule is not checked');
  }
  return undefined;
}

/** Number of Unicode code points (what RE2 and protoc-gen-validate call runes). */
export function codePointLength(value: string): number {
  let count = value.length;
  for (let i = 0; i < value.length - 1; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}
