// Per-message validation plans: for each protobufjs Type, the list of fields that carry rules or
// lead to nested messages that do, compiled once into closures and cached (WeakMap on the Type),
// plus the oneofs marked (validate.required). Walking a message is then one pass over its plan.
import * as protobuf from 'protobufjs';
import { compileEnum, compileScalar } from './scalar';
import { compileTime } from './time';
import {
  type PgvViolation, type Rules, type ValueCheck, fieldRules, isSet, joinPath, literal, messageDisabled, oneofRequired,
  protoFieldName, ruleBool, ruleCount, ruleList, ruleObject, toBytes,
} from './rules';

interface FieldPlan {
  /** protobufjs property name (camelCase). */
  key: string;
  /** Proto field name, for paths. */
  protoName: string;
  /** Oneof members (and proto3 `optional` fields) are checked only when set. */
  onlyWhenSet: boolean;
  /** Checks the raw property value (undefined when absent). */
  check: ValueCheck;
}

interface RequiredOneof {
  protoName: string;
  memberKeys: string[];
  message: string;
}

interface TypePlan {
  fields: FieldPlan[];
  requiredOneofs: RequiredOneof[];
  /** True while the plan is being compiled (a message type that contains itself). */
  compiling: boolean;
}

const plans = new WeakMap<protobuf.Type, TypePlan>();

const WRAPPED_SCALAR: Readonly<Record<string, string>> = {
  '.google.protobuf.DoubleValue': 'double', '.google.protobuf.FloatValue': 'float',
  '.google.protobuf.Int64Value': 'int64', '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.Int32Value': 'int32', '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.BoolValue': 'bool', '.google.protobuf.StringValue': 'string',
  '.google.protobuf.BytesValue': 'bytes',
};

/** Walks `message` (a protobufjs Message or plain object) of `type`, appending violations. */
export function visitMessage(type: protobuf.Type, message: unknown, path: string, out: PgvViolation[]): void {
  if (typeof message !== 'object' || message === null) {
    out.push({ path, message: `value is not a ${type.fullName.slice(1)} message` });
    return;
  }
  const plan = planFor(type);
  const fields = message as Readonly<Record<string, unknown>>;
  for (const field of plan.fields) {
    if (field.onlyWhenSet && !isSet(fields, field.key)) continue;
    field.check(fields[field.key], joinPath(path, field.protoName), out);
  }
  for (const oneof of plan.requiredOneofs) {
    if (!oneof.memberKeys.some((key) => isSet(fields, key))) out.push({ path: joinPath(path, oneof.protoName), message: oneof.message });
  }
}

function planFor(type: protobuf.Type): TypePlan {
  const cached = plans.get(type);
  if (cached !== undefined) return cached;
  const plan: TypePlan = { fields: [], requiredOneofs: [], compiling: true };
  plans.set(type, plan);
  if (!messageDisabled(type)) {
    for (const field of type.fieldsArray) {
      const check = compileField(field.resolve());
      if (check === undefined) continue;
      const partOf = field.partOf;
      plan.fields.push({ key: field.name, protoName: protoFieldName(field.name), onlyWhenSet: partOf !== null, check });
    }
    for (const oneof of type.oneofsArray) {
      if (!oneofRequired(oneof)) continue;
      const members = oneof.oneof.map(protoFieldName).join(', ');
      plan.requiredOneofs.push({ protoName: protoFieldName(oneof.name), memberKeys: [...oneof.oneof], message: `value is required: set one of ${members}` });
    }
  }
  plan.compiling = false;
  return plan;
}

/** False only for message types that (transitively) have nothing to check. */
function worthVisiting(type: protobuf.Type): boolean {
  const plan = planFor(type);
  return plan.compiling || plan.fields.length > 0 || plan.requiredOneofs.length > 0;
}

function compileField(field: protobuf.Field): ValueCheck | undefined {
  const rules = fieldRules(field);
  if (field instanceof protobuf.MapField) return compileMap(field, rules);
  if (field.repeated) return compileRepeated(field, ruleObject(rules, 'repeated'));
  return compileValue(field, rules);
}

/** Checks for one value of the field's element type under FieldRules `rules`. */
function compileValue(field: protobuf.FieldBase, rules: Rules | undefined): ValueCheck | undefined {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) return compileEnum(resolved, rules);
  if (resolved instanceof protobuf.Type) return compileMessage(resolved, rules);
  return compileScalar(field.type, rules);
}

function requiredCheck(rules: Rules | undefined, ...kinds: string[]): boolean {
  return kinds.some((kind) => ruleBool(ruleObject(rules, kind) ?? {}, 'required') === true);
}

function compileMessage(type: protobuf.Type, rules: Rules | undefined): ValueCheck | undefined {
  if (type.fullName === '.google.protobuf.Duration') return compileTime('duration', rules);
  if (type.fullName === '.google.protobuf.Timestamp') return compileTime('timestamp', rules);
  if (type.fullName === '.google.protobuf.Any') return compileAny(type.root, rules);
  const required = requiredCheck(rules, 'message');
  const wrapped = WRAPPED_SCALAR[type.fullName];
  if (wrapped !== undefined) {
    // A wrapper's rules are written for the wrapped scalar and apply only when it is set.
    const inner = compileScalar(wrapped, rules);
    if (inner === undefined && !required) return undefined;
    return (raw, path, out) => {
      if (raw === undefined || raw === null) {
        if (required) out.push({ path, message: 'value is required' });
        return;
      }
      inner?.((raw as { value?: unknown }).value, path, out);
    };
  }
  const skip = ruleBool(ruleObject(rules, 'message') ?? {}, 'skip') === true;
  const recurse = !skip && worthVisiting(type);
  if (!required && !recurse) return undefined;
  return (raw, path, out) => {
    if (raw === undefined || raw === null) {
      if (required) out.push({ path, message: 'value is required' });
      return;
    }
    if (recurse) visitMessage(type, raw, path, out);
  };
}

const resolvedTypeUrls = new WeakMap<protobuf.Root, Map<string, protobuf.Type | null>>();

/** The message type an Any's type URL names, if `root` has loaded it. */
export function typeForUrl(root: protobuf.Root, typeUrl: string): protobuf.Type | null {
  let cache = resolvedTypeUrls.get(root);
  if (cache === undefined) resolvedTypeUrls.set(root, (cache = new Map()));
  let type = cache.get(typeUrl);
  if (type === undefined) {
    const found = root.lookup(`.${typeUrl.slice(typeUrl.lastIndexOf('/') + 1)}`);
    type = found instanceof protobuf.Type ? found : null;
    cache.set(typeUrl, type);
  }
  return type;
}

/** Validates what an Any holds: `{'@type', ...fields}` (fromObject/JSON form) or `{type_url, value}`. */
function visitAnyContents(root: protobuf.Root, any: Readonly<Record<string, unknown>>, typeUrl: string, path: string, out: PgvViolation[]): void {
  const type = typeForUrl(root, typeUrl);
  if (type === null) return; // Not loaded here: nothing is known about its contents.
  const innerPath = `${path}<${type.fullName.slice(1)}>`;
  if (typeof any['@type'] === 'string') {
    visitMessage(type, any, innerPath, out);
    return;
  }
  const bytes = toBytes(any.value ?? new Uint8Array(0));
  if (bytes === undefined) {
    out.push({ path, message: 'Any value is not bytes' });
    return;
  }
  let decoded: protobuf.Message;
  try {
    decoded = type.decode(bytes);
  } catch (error) {
    out.push({ path: innerPath, message: `cannot decode: ${(error as Error).message}` });
    return;
  }
  visitMessage(type, decoded, innerPath, out);
}

function anyTypeUrl(any: Readonly<Record<string, unknown>>): string | undefined {
  for (const key of ['@type', 'type_url', 'typeUrl']) {
    if (typeof any[key] === 'string') return any[key];
  }
  return undefined;
}

function compileAny(root: protobuf.Root, rules: Rules | undefined): ValueCheck {
  const own = ruleObject(rules, 'any') ?? {};
  const required = requiredCheck(rules, 'any', 'message');
  const skip = ruleBool(ruleObject(rules, 'message') ?? {}, 'skip') === true;
  const allowed = ruleList(own, 'in')?.map(String);
  const denied = ruleList(own, 'not_in')?.map(String);
  return (raw, path, out) => {
    if (raw === undefined || raw === null) {
      if (required) out.push({ path, message: 'value is required' });
      return;
    }
    const any = raw as Readonly<Record<string, unknown>>;
    const typeUrl = anyTypeUrl(any) ?? '';
    if (allowed !== undefined && allowed.length > 0 && !allowed.includes(typeUrl)) {
      out.push({ path, message: `type URL must be in list [${allowed.map(literal).join(', ')}]` });
    }
    if (denied !== undefined && denied.includes(typeUrl)) {
      out.push({ path, message: `type URL must not be in list [${denied.map(literal).join(', ')}]` });
    }
    if (!skip && typeUrl !== '') visitAnyContents(root, any, typeUrl, path, out);
  };
}

/** A key for `unique`: scalars by value (Longs and bigints by decimal text), others by JSON. */
function uniqueKey(value: unknown): string {
  if (typeof value === 'string') return `s:${value}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `n:${String(value)}`;
  if (value instanceof Uint8Array) return `b:${Buffer.from(value).toString('base64')}`;
  if (typeof value === 'object' && value !== null && 'low' in value && 'high' in value) return `n:${String(value)}`;
  return `j:${JSON.stringify(value)}`;
}

function compileRepeated(field: protobuf.Field, rules: Rules | undefined): ValueCheck | undefined {
  const own = rules ?? {};
  const min = ruleCount(own, 'min_items');
  const max = ruleCount(own, 'max_items');
  const unique = ruleBool(own, 'unique') === true;
  const ignoreEmpty = ruleBool(own, 'ignore_empty') === true;
  const element = compileValue(field, ruleObject(own, 'items'));
  if (min === undefined && max === undefined && !unique && element === undefined) return undefined;
  return (raw, path, out) => {
    const items: readonly unknown[] = Array.isArray(raw) ? raw : [];
    if (ignoreEmpty && items.length === 0) return;
    if (min !== undefined && items.length < min) out.push({ path, message: `value must contain at least ${min} item(s)` });
    if (max !== undefined && items.length > max) out.push({ path, message: `value must contain no more than ${max} item(s)` });
    const seen = unique ? new Set<string>() : undefined;
    for (let i = 0; i < items.length; i++) {
      const itemPath = `${path}[${i}]`;
      if (seen !== undefined) {
        const key = uniqueKey(items[i]);
        if (seen.has(key)) out.push({ path: itemPath, message: 'repeated value must contain unique items' });
        seen.add(key);
      }
      element?.(items[i], itemPath, out);
    }
  };
}

/** Map keys arrive as strings; key rules are written for the declared key type. */
function typedKey(keyType: string, key: string): unknown {
  if (keyType === 'string') return key;
  if (keyType === 'bool') return key === 'true';
  return keyType.endsWith('64') ? key : Number(key);
}

function compileMap(field: protobuf.MapField, rules: Rules | undefined): ValueCheck | undefined {
  const own = ruleObject(rules, 'map') ?? {};
  const min = ruleCount(own, 'min_pairs');
  const max = ruleCount(own, 'max_pairs');
  const noSparse = ruleBool(own, 'no_sparse') === true;
  const ignoreEmpty = ruleBool(own, 'ignore_empty') === true;
  const keyCheck = compileScalar(field.keyType, ruleObject(own, 'keys'));
  const valueCheck = compileValue(field, ruleObject(own, 'values'));
  if (min === undefined && max === undefined && !noSparse && keyCheck === undefined && valueCheck === undefined) return undefined;
  return (raw, path, out) => {
    const pairs = typeof raw === 'object' && raw !== null ? (raw as Readonly<Record<string, unknown>>) : {};
    const keys = Object.keys(pairs);
    if (ignoreEmpty && keys.length === 0) return;
    if (min !== undefined && keys.length < min) out.push({ path, message: `value must contain at least ${min} pair(s)` });
    if (max !== undefined && keys.length > max) out.push({ path, message: `value must contain no more than ${max} pair(s)` });
    for (const key of keys) {
      const pairPath = `${path}[${JSON.stringify(key)}]`;
      if (keyCheck !== undefined) {
        const keyViolations: PgvViolation[] = [];
        keyCheck(typedKey(field.keyType, key), pairPath, keyViolations);
        for (const violation of keyViolations) out.push({ path: violation.path, message: `map key: ${violation.message}` });
      }
      const value = pairs[key];
      if (noSparse && (value === undefined || value === null)) out.push({ path: pairPath, message: 'map values cannot be unset' });
      valueCheck?.(value, pairPath, out);
    }
  };
}
