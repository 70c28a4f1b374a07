// CloudFormation spells App Mesh's properties in PascalCase, the API (and meshd's specs) in
// camelCase. Most names only lose their capital first letter; acronyms lose all of them: `DNS` →
// `dns`, `TLS` → `tls`, `HTTP2` → `http2`, `GRPC` → `grpc`, and a leading acronym before a word keeps
// the word's capital: `AWSCloudMap` → `awsCloudMap`. CloudFormation also passes numbers and booleans
// through parameters as strings (`Port: !Ref ListenerPort` is "8080"); they are coerced back where the
// API takes a number or a boolean.
import { isSourceMap, type SourceValue } from './yaml-source';

/** `VirtualNodeName` → `virtualNodeName`, `DNS` → `dns`, `AWSCloudMap` → `awsCloudMap`, `HTTP2` → `http2`. */
export function camelCaseOf(name: string): string {
  const leading = /^[A-Z0-9]+/.exec(name)?.[0] ?? '';
  if (leading.length === 0) return name;
  if (leading.length === name.length) return name.toLowerCase();
  // `AWSCloudMap`: the last capital of the run starts the next word.
  if (leading.length > 1 && /[a-z]/.test(name[leading.length]!)) {
    return leading.slice(0, -1).toLowerCase() + name.slice(leading.length - 1);
  }
  return leading.toLowerCase() + name.slice(leading.length);
}

// Fields the API types as integers (ports, weights, thresholds, limits, header match ranges).
const integerFields = new Set([
  'port', 'weight', 'priority', 'maxRetries', 'healthyThreshold', 'unhealthyThreshold', 'intervalMillis', 'timeoutMillis',
  'maxConnections', 'maxPendingRequests', 'maxRequests', 'maxEjectionPercent', 'maxServerErrors', 'start', 'end',
]);
const integerListFields = new Set(['ports']);
const booleanFields = new Set(['enforce', 'invert']);

function asInteger(value: SourceValue): SourceValue {
  return typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
}

function asBoolean(value: SourceValue): SourceValue {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

/** Coerce one converted field's value to the type the API takes. */
function coerce(field: string, value: SourceValue, siblings: Readonly<Record<string, SourceValue>>): SourceValue {
  if (integerFields.has(field)) return asInteger(value);
  // A duration is `{ unit, value }`; elsewhere `value` is text (tags, attributes, log fields).
  if (field === 'value' && 'unit' in siblings) return asInteger(value);
  if (integerListFields.has(field) && Array.isArray(value)) return value.map(asInteger);
  if (booleanFields.has(field)) return asBoolean(value);
  return value;
}

/** Convert a resolved CloudFormation property tree to the API's names and types, deeply. */
export function toApiShape(value: SourceValue): SourceValue {
  if (Array.isArray(value)) return value.map(toApiShape);
  if (!isSourceMap(value)) return value;
  const converted: Record<string, SourceValue> = {};
  for (const [key, child] of Object.entries(value)) converted[camelCaseOf(key)] = toApiShape(child);
  for (const [key, child] of Object.entries(converted)) converted[key] = coerce(key, child, converted);
  return converted;
}
