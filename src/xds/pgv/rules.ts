// Reading protoc-gen-validate options off protobufjs reflection objects, and the small value
// coercions every check needs. protobufjs 7 keeps a field's `[(validate.rules).x = {...}]` both
// flattened in `options` ("(validate.rules).string.min_len": 1) and as parsed objects in
// `parsedOptions` ([{"(validate.rules)": {string: {min_len: 1}}}]); the parsed form is used and the
// flattened one is a fallback. Rule keys keep validate.proto's snake_case names.
import * as protobuf from 'protobufjs';

/** One violated constraint: where (proto field names) and what. */
export interface PgvViolation {
  /** Path from the validated message, e.g. `filter_chains[0].filters[0].typed_config<T>.stat_prefix`. */
  path: string;
  /** What is wrong, in protoc-gen-validate's wording, e.g. `value length must be at least 1 characters`. */
  message: string;
}

/** Checks one value and appends what it finds to `out`. */
export type ValueCheck = (value: unknown, path: string, out: PgvViolation[]) => void;

/** A rules object as parsed from the proto text (validate.FieldRules or one of its members). */
export type Rules = Readonly<Record<string, unknown>>;

const RULES_OPTION = '(validate.rules)';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges `from` into `into`, recursively, so that repeated option statements add up. */
function mergeInto(into: Record<string, unknown>, from: Readonly<Record<string, unknown>>): void {
  for (const [key, value] of Object.entries(from)) {
    const existing = into[key];
    if (isRecord(existing) && isRecord(value)) mergeInto(existing, value);
    else into[key] = isRecord(value) ? structuredClone(value) : value;
  }
}

/** The field's validate.FieldRules, or undefined when it carries none. */
export function fieldRules(field: protobuf.Field): Rules | undefined {
  const merged: Record<string, unknown> = {};
  let found = false;
  const parsedOptions: unknown = field.parsedOptions;
  for (const parsed of Array.isArray(parsedOptions) ? (parsedOptions as unknown[]) : []) {
    const rules: unknown = isRecord(parsed) ? parsed[RULES_OPTION] : undefined;
    if (isRecord(rules)) {
      mergeInto(merged, rules);
      found = true;
    }
  }
  if (found) return merged;
  // Fallback for options only present in flattened form: "(validate.rules).a.b" -> {a: {b: v}}.
  for (const [key, value] of Object.entries(field.options ?? {})) {
    if (!key.startsWith(`${RULES_OPTION}.`)) continue;
    const parts = key.slice(RULES_OPTION.length + 1).split('.');
    let node = merged;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      node = isRecord(next) ? next : (node[part] = {});
    }
    node[parts[parts.length - 1]!] = value;
    found = true;
  }
  return found ? merged : undefined;
}

function optionSet(options: Record<string, unknown> | undefined, parsed: unknown, name: string): boolean {
  if (options?.[name] === true) return true;
  return Array.isArray(parsed) && parsed.some((entry) => isRecord(entry) && entry[name] === true);
}

/** True when the oneof carries `option (validate.required) = true`. */
export function oneofRequired(oneof: protobuf.OneOf): boolean {
  const withParsed = oneof as protobuf.OneOf & { parsedOptions?: unknown };
  return optionSet(oneof.options, withParsed.parsedOptions, '(validate.required)');
}

/** True when the message opts out of validation (`(validate.disabled)` or `(validate.ignored)`). */
export function messageDisabled(type: protobuf.Type): boolean {
  return optionSet(type.options, type.parsedOptions, '(validate.disabled)')
    || optionSet(type.options, type.parsedOptions, '(validate.ignored)');
}

/** The nested rules object `rules[key]`, if any. */
export function ruleObject(rules: Rules | undefined, key: string): Rules | undefined {
  const value = rules?.[key];
  return isRecord(value) ? value : undefined;
}

/** `rules[key]` as a boolean (absent -> undefined). */
export function ruleBool(rules: Rules, key: string): boolean | undefined {
  const value = rules[key];
  return typeof value === 'boolean' ? value : undefined;
}

/** `rules[key]` as a non-negative count (absent -> undefined). */
export function ruleCount(rules: Rules, key: string): number | undefined {
  const value = rules[key];
  if (value === undefined || value === null) return undefined;
  const asNumber = toNumber(value);
  return asNumber === undefined || Number.isNaN(asNumber) ? undefined : asNumber;
}

/** `rules[key]` as a string (absent -> undefined). */
export function ruleString(rules: Rules, key: string): string | undefined {
  const value = rules[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * `rules[key]` as a list. The proto text parser yields a bare value for `not_in: 6` and an array
 * for `in: ["a", "b"]`; both mean a list.
 */
export function ruleList(rules: Rules, key: string): unknown[] | undefined {
  const value = rules[key];
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) ? value : [value];
}

/** A protobufjs Long (from the `long` package) or anything shaped like one. */
export interface LongLike {
  /** Low 32 bits. */
  low: number;
  /** High 32 bits. */
  high: number;
  /** Whether the value is unsigned. */
  unsigned?: boolean;
}

function isLongLike(value: unknown): value is LongLike {
  return isRecord(value) && typeof value.low === 'number' && typeof value.high === 'number';
}

/**
 * A 64-bit integer from whatever protobufjs or a caller used for it: Long, number, decimal string
 * or bigint. `unsigned` says how to read a Long's bits. Undefined when it is not an integer.
 */
export function toBigInt(value: unknown, unsigned: boolean): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? BigInt(Math.trunc(value)) : undefined;
  if (typeof value === 'string') {
    if (!/^\s*[-+]?\d+\s*$/.test(value)) return undefined;
    return BigInt(value.trim());
  }
  if (isLongLike(value)) {
    const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
    return unsigned ? BigInt.asUintN(64, bits) : BigInt.asIntN(64, bits);
  }
  return undefined;
}

/** A number from a number, numeric string or Long. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.trim() === '' ? undefined : Number(value);
  if (typeof value === 'bigint') return Number(value);
  if (isLongLike(value)) return Number(toBigInt(value, value.unsigned === true));
  return undefined;
}

/** Bytes from a Uint8Array/Buffer, a base64 string (as fromObject accepts) or an array of octets. */
export function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  if (Array.isArray(value) && value.every((b) => typeof b === 'number')) return Uint8Array.from(value as number[]);
  return undefined;
}

/** Own, non-null property: how protobufjs itself tells which oneof member is set. */
export function isSet(message: Readonly<Record<string, unknown>>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, key) && message[key] !== null && message[key] !== undefined;
}

/** The proto (snake_case) name for a protobufjs camelCase name (the loader does not keep case). */
export function protoFieldName(name: string): string {
  return name.replace(/[A-Z]/g, (upper) => `_${upper.toLowerCase()}`);
}

/** `a.b` path join where the root has the empty path. */
export function joinPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** Quotes a value for a message the way protoc-gen-validate prints literals. */
export function literal(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  return String(value);
}
