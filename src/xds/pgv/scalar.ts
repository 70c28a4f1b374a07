// Compiled checks for scalar and enum values: StringRules, BytesRules, BoolRules, EnumRules and
// the numeric rules of every integer and floating kind. Each compiler returns undefined when the
// rules ask for nothing, so fields without constraints cost nothing at validation time.
import type * as protobuf from 'protobufjs';
import { codePointLength, fullMatchRegExp, isAbsoluteUri, isEmail, isHostname, isIp, isIpv4, isIpv6, isUriReference, isUuid, wellKnownRegex } from './formats';
import { compileOrdered, type OrderedCheck, type OrderedKind } from './ordered';
import { type Rules, type ValueCheck, literal, ruleBool, ruleCount, ruleList, ruleObject, ruleString, toBigInt, toBytes, toNumber } from './rules';

type StringTest = (value: string) => string | undefined;

function compareNumbers(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return a === b ? 0 : Number.NaN; // NaN compares as neither equal nor ordered
}

const NUMBER_KIND: OrderedKind<number> = { read: toNumber, compare: compareNumbers, format: String, zero: 0 };

function bigIntKind(unsigned: boolean): OrderedKind<bigint> {
  return {
    read: (value) => toBigInt(value, unsigned),
    compare: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    format: (value) => value.toString(),
    zero: 0n,
  };
}

/**
 * 32-bit and floating kinds read values the way encoding would narrow them (int32 wraps, float
 * rounds to single precision), so rules see what Envoy would receive. NaN is a value only for
 * floating kinds.
 */
function numberKind(narrow: (value: number) => number, floating: boolean): OrderedKind<number> {
  return {
    ...NUMBER_KIND,
    read: (value) => {
      const number = toNumber(value);
      if (number === undefined || (!floating && !Number.isFinite(number))) return undefined;
      return narrow(number);
    },
  };
}

const SIGNED_32 = numberKind((value) => value | 0, false);
const UNSIGNED_32 = numberKind((value) => value >>> 0, false);
const KIND_OF_NUMBER: Readonly<Record<string, OrderedKind<number>>> = {
  int32: SIGNED_32, sint32: SIGNED_32, sfixed32: SIGNED_32, uint32: UNSIGNED_32, fixed32: UNSIGNED_32,
  float: numberKind(Math.fround, true), double: numberKind((value) => value, true),
};

const UNSIGNED_64 = bigIntKind(true);
const SIGNED_64 = bigIntKind(false);

/** The protobufjs scalar type names whose values are 64-bit (Long or number or string). */
const KIND_OF_64: Readonly<Record<string, OrderedKind<bigint>>> = {
  int64: SIGNED_64, sint64: SIGNED_64, sfixed64: SIGNED_64, uint64: UNSIGNED_64, fixed64: UNSIGNED_64,
};

/** Runs compiled ordered checks over a field value read as `kind` (unset reads as zero). */
function orderedValueCheck<T>(kind: OrderedKind<T>, checks: OrderedCheck<T>[], typeName: string): ValueCheck | undefined {
  if (checks.length === 0) return undefined;
  return (raw, path, out) => {
    const value = raw === undefined || raw === null ? kind.zero : kind.read(raw);
    if (value === undefined) {
      out.push({ path, message: `value is not a valid ${typeName}` });
      return;
    }
    for (const check of checks) {
      const message = check(value);
      if (message !== undefined) out.push({ path, message });
    }
  };
}

/**
 * Checks for a value of scalar type `type` (protobufjs name: 'string', 'uint32', ...) under the
 * FieldRules `rules`, or undefined when there is nothing to check.
 */
export function compileScalar(type: string, rules: Rules | undefined): ValueCheck | undefined {
  const own = ruleObject(rules, type);
  if (own === undefined) return undefined;
  if (type === 'string') return compileString(own);
  if (type === 'bytes') return compileBytes(own);
  if (type === 'bool') return compileBool(own);
  const kind64 = KIND_OF_64[type];
  if (kind64 !== undefined) return orderedValueCheck(kind64, compileOrdered(kind64, own), type);
  const kind = KIND_OF_NUMBER[type];
  if (kind !== undefined) return orderedValueCheck(kind, compileOrdered(kind, own), type);
  return undefined;
}

function compileBool(rules: Rules): ValueCheck | undefined {
  const constant = ruleBool(rules, 'const');
  if (constant === undefined) return undefined;
  return (raw, path, out) => {
    if ((raw === true) !== constant) out.push({ path, message: `value must equal ${String(constant)}` });
  };
}

/** Length, membership and content tests shared by strings (and by bytes through a text view). */
function lengthTests(rules: Rules, measure: (value: string) => number, unit: string, prefix: string): StringTest[] {
  const tests: StringTest[] = [];
  const exact = ruleCount(rules, prefix === '' ? 'len' : `len_${prefix}`);
  const min = ruleCount(rules, prefix === '' ? 'min_len' : `min_${prefix}`);
  const max = ruleCount(rules, prefix === '' ? 'max_len' : `max_${prefix}`);
  if (exact !== undefined) tests.push((v) => (measure(v) === exact ? undefined : `value length must be ${exact} ${unit}`));
  if (min !== undefined && min > 0) tests.push((v) => (measure(v) >= min ? undefined : `value length must be at least ${min} ${unit}`));
  if (max !== undefined) tests.push((v) => (measure(v) <= max ? undefined : `value length must be at most ${max} ${unit}`));
  return tests;
}

function contentTests(rules: Rules): StringTest[] {
  const tests: StringTest[] = [];
  const constant = ruleString(rules, 'const');
  if (constant !== undefined) tests.push((v) => (v === constant ? undefined : `value must equal ${literal(constant)}`));
  const allowed = ruleList(rules, 'in')?.map(String);
  if (allowed !== undefined && allowed.length > 0) {
    const set = new Set(allowed);
    const text = allowed.map(literal).join(', ');
    tests.push((v) => (set.has(v) ? undefined : `value must be in list [${text}]`));
  }
  const denied = ruleList(rules, 'not_in')?.map(String);
  if (denied !== undefined && denied.length > 0) {
    const set = new Set(denied);
    const text = denied.map(literal).join(', ');
    tests.push((v) => (set.has(v) ? `value must not be in list [${text}]` : undefined));
  }
  const pattern = ruleString(rules, 'pattern');
  const regexp = pattern === undefined ? undefined : fullMatchRegExp(pattern);
  if (pattern !== undefined && regexp !== undefined) {
    tests.push((v) => (regexp.test(v) ? undefined : `value does not match regex pattern ${literal(pattern)}`));
  }
  const prefix = ruleString(rules, 'prefix');
  if (prefix) tests.push((v) => (v.startsWith(prefix) ? undefined : `value does not have prefix ${literal(prefix)}`));
  const suffix = ruleString(rules, 'suffix');
  if (suffix) tests.push((v) => (v.endsWith(suffix) ? undefined : `value does not have suffix ${literal(suffix)}`));
  const contains = ruleString(rules, 'contains');
  if (contains) tests.push((v) => (v.includes(contains) ? undefined : `value does not contain substring ${literal(contains)}`));
  const notContains = ruleString(rules, 'not_contains');
  if (notContains) tests.push((v) => (v.includes(notContains) ? `value contains substring ${literal(notContains)}` : undefined));
  return tests;
}

const STRING_FORMATS: readonly [string, (value: string) => boolean, string][] = [
  ['email', isEmail, 'value must be a valid email address'],
  ['hostname', isHostname, 'value must be a valid hostname'],
  ['ip', isIp, 'value must be a valid IP address'],
  ['ipv4', isIpv4, 'value must be a valid IPv4 address'],
  ['ipv6', isIpv6, 'value must be a valid IPv6 address'],
  ['uri', isAbsoluteUri, 'value must be a valid absolute URI'],
  ['uri_ref', isUriReference, 'value must be a valid URI reference'],
  ['address', (v) => isHostname(v) || isIp(v), 'value must be a valid hostname or IP address'],
  ['uuid', isUuid, 'value must be a valid UUID'],
];

function runTests(tests: StringTest[], ignoreEmpty: boolean, text: string, path: string, out: Parameters<ValueCheck>[2]): void {
  if (ignoreEmpty && text.length === 0) return;
  for (const test of tests) {
    const message = test(text);
    if (message !== undefined) out.push({ path, message });
  }
}

function compileString(rules: Rules): ValueCheck | undefined {
  const tests = [
    ...contentTests(rules),
    ...lengthTests(rules, codePointLength, 'characters', ''),
    ...lengthTests(rules, (v) => Buffer.byteLength(v, 'utf8'), 'bytes', 'bytes'),
  ];
  for (const [key, test, message] of STRING_FORMATS) {
    if (ruleBool(rules, key) === true) tests.push((v) => (test(v) ? undefined : message));
  }
  const known = wellKnownRegex(rules.well_known_regex, ruleBool(rules, 'strict') ?? true);
  if (known !== undefined) tests.push((v) => (known.test.test(v) ? undefined : known.message));
  if (tests.length === 0) return undefined;
  const ignoreEmpty = ruleBool(rules, 'ignore_empty') === true;
  return (raw, path, out) => {
    if (raw !== undefined && raw !== null && typeof raw !== 'string') {
      out.push({ path, message: 'value is not a string' });
      return;
    }
    runTests(tests, ignoreEmpty, raw ?? '', path, out);
  };
}

/** Bytes rule operands come from proto text: chars up to U+00FF are octets, anything else UTF-8. */
function operandBytes(text: string): Buffer {
  return Buffer.from(text, /^[\u0000-\u00ff]*$/.test(text) ? 'latin1' : 'utf8');
}

function compileBytes(rules: Rules): ValueCheck | undefined {
  // Content rules compare octets, so bytes are viewed as latin1 text (one char per octet) and
  // operands are converted the same way; length rules then count octets.
  const asText: Rules = Object.fromEntries(Object.entries(rules).map(([key, value]) => [
    key,
    typeof value === 'string' && key !== 'pattern' ? operandBytes(value).toString('latin1')
      : Array.isArray(value) ? value.map((item) => (typeof item === 'string' ? operandBytes(item).toString('latin1') : item)) : value,
  ]));
  const tests = [...contentTests(asText), ...lengthTests(asText, (v) => v.length, 'bytes', '')];
  const ipLengths: readonly [string, number[], string][] = [
    ['ip', [4, 16], 'value must be a valid IP address'],
    ['ipv4', [4], 'value must be a valid IPv4 address'],
    ['ipv6', [16], 'value must be a valid IPv6 address'],
  ];
  for (const [key, lengths, message] of ipLengths) {
    if (ruleBool(rules, key) === true) tests.push((v) => (lengths.includes(v.length) ? undefined : message));
  }
  if (tests.length === 0) return undefined;
  const ignoreEmpty = ruleBool(rules, 'ignore_empty') === true;
  return (raw, path, out) => {
    const bytes = raw === undefined || raw === null ? new Uint8Array(0) : toBytes(raw);
    if (bytes === undefined) {
      out.push({ path, message: 'value is not bytes' });
      return;
    }
    runTests(tests, ignoreEmpty, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), path, out);
  };
}

/**
 * Checks for an enum value under FieldRules `rules`. Values may be numbers or names (as fromObject
 * accepts); a name the enum does not define is always reported, since fromObject would drop it.
 */
export function compileEnum(enumType: protobuf.Enum, rules: Rules | undefined): ValueCheck {
  const own = ruleObject(rules, 'enum') ?? {};
  const tests: ((value: number) => string | undefined)[] = [];
  if (ruleBool(own, 'defined_only') === true) {
    tests.push((v) => (enumType.valuesById[v] !== undefined ? undefined : 'value must be one of the defined enum values'));
  }
  const number = (item: unknown): number | undefined =>
    (typeof item === 'string' && item in enumType.values ? enumType.values[item] : toNumber(item));
  tests.push(...compileOrdered({ ...NUMBER_KIND, read: number }, own));
  return (raw, path, out) => {
    const value = raw === undefined || raw === null ? 0 : number(raw);
    if (value === undefined || Number.isNaN(value)) {
      out.push({ path, message: `unknown ${enumType.name} value ${literal(raw)}` });
      return;
    }
    for (const test of tests) {
      const message = test(value);
      if (message !== undefined) out.push({ path, message });
    }
  };
}
