// Rules shared by every ordered kind (numbers, 64-bit integers, durations, timestamps):
// const, lt/lte/gt/gte (with protoc-gen-validate's inside/outside range semantics), in, not_in.
import { type Rules, ruleBool, ruleList } from './rules';

/** How to read and compare one ordered kind. */
export interface OrderedKind<T> {
  /** Reads a field value or a rule operand; undefined when it cannot be read. */
  read(value: unknown): T | undefined;
  /** Three-way comparison. */
  compare(a: T, b: T): number;
  /** How a value is printed in messages. */
  format(value: T): string;
  /** The kind's zero value (for ignore_empty). */
  zero: T;
}

/** A compiled check on an already-read value: the message when it fails, else undefined. */
export type OrderedCheck<T> = (value: T) => string | undefined;

/**
 * Compiles the ordered rules of `rules` into checks, or [] when there are none. A rule operand
 * that cannot be read as the kind is left out rather than guessed at.
 */
export function compileOrdered<T>(kind: OrderedKind<T>, rules: Rules): OrderedCheck<T>[] {
  const checks: OrderedCheck<T>[] = [];
  const operand = (key: string): T | undefined => (rules[key] === undefined ? undefined : kind.read(rules[key]));

  const constant = operand('const');
  if (constant !== undefined) {
    checks.push((v) => (kind.compare(v, constant) === 0 ? undefined : `value must equal ${kind.format(constant)}`));
  }

  const gt = operand('gt');
  const gte = gt === undefined ? operand('gte') : undefined;
  const lt = operand('lt');
  const lte = lt === undefined ? operand('lte') : undefined;
  const lower = gt ?? gte;
  const upper = lt ?? lte;
  const aboveLower = (v: T): boolean => (gt !== undefined ? kind.compare(v, gt) > 0 : kind.compare(v, gte as T) >= 0);
  const belowUpper = (v: T): boolean => (lt !== undefined ? kind.compare(v, lt) < 0 : kind.compare(v, lte as T) <= 0);

  if (lower !== undefined && upper !== undefined) {
    if (kind.compare(upper, lower) >= 0) {
      const range = `${gt !== undefined ? '(' : '['}${kind.format(lower)}, ${kind.format(upper)}${lt !== undefined ? ')' : ']'}`;
      checks.push((v) => (aboveLower(v) && belowUpper(v) ? undefined : `value must be inside range ${range}`));
    } else {
      // An upper bound below the lower bound means "outside", as in protoc-gen-validate.
      const range = `${lt !== undefined ? '[' : '('}${kind.format(upper)}, ${kind.format(lower)}${gt !== undefined ? ']' : ')'}`;
      checks.push((v) => (aboveLower(v) || belowUpper(v) ? undefined : `value must be outside range ${range}`));
    }
  } else if (lower !== undefined) {
    const text = gt !== undefined ? `greater than ${kind.format(lower)}` : `greater than or equal to ${kind.format(lower)}`;
    checks.push((v) => (aboveLower(v) ? undefined : `value must be ${text}`));
  } else if (upper !== undefined) {
    const text = lt !== undefined ? `less than ${kind.format(upper)}` : `less than or equal to ${kind.format(upper)}`;
    checks.push((v) => (belowUpper(v) ? undefined : `value must be ${text}`));
  }

  const listRule = (key: string): T[] | undefined =>
    ruleList(rules, key)?.map((item) => kind.read(item)).filter((item): item is T => item !== undefined);
  const allowed = listRule('in');
  if (allowed !== undefined && allowed.length > 0) {
    const text = allowed.map((item) => kind.format(item)).join(', ');
    checks.push((v) => (allowed.some((item) => kind.compare(v, item) === 0) ? undefined : `value must be in list [${text}]`));
  }
  const denied = listRule('not_in');
  if (denied !== undefined && denied.length > 0) {
    const text = denied.map((item) => kind.format(item)).join(', ');
    checks.push((v) => (denied.some((item) => kind.compare(v, item) === 0) ? `value must not be in list [${text}]` : undefined));
  }

  if (ruleBool(rules, 'ignore_empty') === true) {
    return checks.map((check) => (v: T) => (kind.compare(v, kind.zero) === 0 ? undefined : check(v)));
  }
  return checks;
}
