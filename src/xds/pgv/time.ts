// DurationRules and TimestampRules: both are ordered over nanoseconds held as bigint, so that
// whole int64 seconds plus nanos compare exactly.
import { compileOrdered, type OrderedKind } from './ordered';
import { type Rules, type ValueCheck, ruleBool, ruleObject, toBigInt, toNumber } from './rules';

const NANOS_PER_SECOND = 1_000_000_000n;

/** {seconds, nanos} (seconds as Long, number or string) as nanoseconds; undefined if malformed. */
function readNanos(value: unknown): bigint | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { seconds, nanos } = value as { seconds?: unknown; nanos?: unknown };
  const wholeSeconds = seconds === undefined || seconds === null ? 0n : toBigInt(seconds, false);
  const fraction = nanos === undefined || nanos === null ? 0 : toNumber(nanos);
  if (wholeSeconds === undefined || fraction === undefined || !Number.isInteger(fraction)) return undefined;
  return wholeSeconds * NANOS_PER_SECOND + BigInt(fraction);
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Prints nanoseconds the way protobuf's JSON mapping prints a Duration: `1.5s`, `0s`. */
export function formatDuration(nanos: bigint): string {
  const sign = nanos < 0n ? '-' : '';
  const magnitude = nanos < 0n ? -nanos : nanos;
  const seconds = magnitude / NANOS_PER_SECOND;
  const fraction = magnitude % NANOS_PER_SECOND;
  const fractionText = fraction === 0n ? '' : `.${fraction.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${sign}${seconds.toString()}${fractionText}s`;
}

function formatTimestamp(nanos: bigint): string {
  const millis = Number(nanos / 1_000_000n);
  const date = new Date(millis);
  return Number.isNaN(date.getTime()) ? `${formatDuration(nanos)} since the epoch` : date.toISOString();
}

const DURATION_KIND: OrderedKind<bigint> = { read: readNanos, compare: compareBig, format: formatDuration, zero: 0n };
const TIMESTAMP_KIND: OrderedKind<bigint> = { read: readNanos, compare: compareBig, format: formatTimestamp, zero: 0n };

type NanosTest = (nanos: bigint) => string | undefined;

function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function timestampNowTests(rules: Rules): NanosTest[] {
  const tests: NanosTest[] = [];
  if (ruleBool(rules, 'lt_now') === true) tests.push((v) => (v < nowNanos() ? undefined : 'value must be less than now'));
  if (ruleBool(rules, 'gt_now') === true) tests.push((v) => (v > nowNanos() ? undefined : 'value must be greater than now'));
  const within = rules.within === undefined ? undefined : readNanos(rules.within);
  if (within !== undefined) {
    tests.push((v) => {
      const distance = v - nowNanos();
      return (distance < 0n ? -distance : distance) <= within ? undefined : `value must be within ${formatDuration(within)} of now`;
    });
  }
  return tests;
}

/**
 * Checks for a google.protobuf.Duration or Timestamp field under FieldRules `rules`, or undefined
 * when there is nothing to check. An unset value fails only `required`.
 */
export function compileTime(which: 'duration' | 'timestamp', rules: Rules | undefined): ValueCheck | undefined {
  const own = ruleObject(rules, which) ?? {};
  const required = ruleBool(own, 'required') === true || ruleBool(ruleObject(rules, 'message') ?? {}, 'required') === true;
  const kind = which === 'duration' ? DURATION_KIND : TIMESTAMP_KIND;
  const tests: NanosTest[] = [...compileOrdered(kind, own), ...(which === 'timestamp' ? timestampNowTests(own) : [])];
  if (!required && tests.length === 0) return undefined;
  const typeName = which === 'duration' ? 'google.protobuf.Duration' : 'google.protobuf.Timestamp';
  return (raw, path, out) => {
    if (raw === undefined || raw === null) {
      if (required) out.push({ path, message: 'value is required' });
      return;
    }
    const nanos = readNanos(raw);
    if (nanos === undefined) {
      out.push({ path, message: `value is not a valid ${typeName}` });
      return;
    }
    for (const test of tests) {
      const message = test(nanos);
      if (message !== undefined) out.push({ path, message });
    }
  };
}
