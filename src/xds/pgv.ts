// A generic validator of Envoy resources against the protoc-gen-validate (PGV) rules carried in
// Envoy's own protos, read from the loaded protobufjs descriptors. It finds what Envoy would
// reject with "Proto constraint validation failed" before a resource is sent, and, unlike PGV's
// generated code, reports every violation at once and looks inside google.protobuf.Any.
import type * as protobuf from 'protobufjs';
import { envoyRoot } from './protos';
import { typeForUrl, visitMessage } from './pgv/plan';
import type { PgvViolation } from './pgv/rules';

export type { PgvViolation } from './pgv/rules';

/**
 * Every PGV violation in `message` of `type`: a decoded protobufjs Message, the plain object
 * Type.toObject produces (with or without `json: true`), or a plain object Type.fromObject
 * accepts (camelCase fields, enums by number or name, Any as `{'@type': url, ...fields}`).
 * Nested messages, repeated and map values, and Any contents whose type `type.root` has loaded are
 * checked too. Rules are compiled once per Type and cached.
 */
export function validateMessage(type: protobuf.Type, message: protobuf.Message | object): PgvViolation[] {
  const out: PgvViolation[] = [];
  visitMessage(type, message, '', out);
  return out;
}

/**
 * Decodes `bytes` as the resource type `typeUrl` names (e.g.
 * `type.googleapis.com/envoy.config.cluster.v3.Cluster`) from `root` and validates it. Undecodable
 * bytes are reported as a violation at the empty path; a type URL `root` does not know is an error.
 */
export function validateResource(typeUrl: string, bytes: Uint8Array, root: protobuf.Root = envoyRoot()): PgvViolation[] {
  const type = typeForUrl(root, typeUrl);
  if (type === null) throw new Error(`validateResource: no message type loaded for type URL ${typeUrl}`);
  let decoded: protobuf.Message;
  try {
    decoded = type.decode(bytes);
  } catch (error) {
    return [{ path: '', message: `cannot decode ${type.fullName.slice(1)}: ${(error as Error).message}` }];
  }
  return validateMessage(type, decoded);
}

/** One line per violation, `path: message`, for logs and test failures. */
export function formatPgvViolations(violations: readonly PgvViolation[]): string {
  return violations.map((violation) => `${violation.path === '' ? '<root>' : violation.path}: ${violation.message}`).join('\n');
}
