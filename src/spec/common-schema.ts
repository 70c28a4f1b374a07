// Building blocks shared by the App Mesh spec schemas: names, ports, durations, "exactly one of"
// unions and SAN formats. Every object is strict, so an unknown or misspelt field is an error
// instead of being silently dropped.
import { z } from 'zod';

/** A resource or mesh name as App Mesh allows it: 1-255 characters. */
export const resourceName = z.string().min(1).max(255);

/** A TCP port number. */
export const port = z.int().min(1).max(65535);

/** App Mesh `Duration`: `{ unit: s|ms, value }`. */
export const duration = z.strictObject({
  unit: z.enum(['s', 'ms']),
  value: z.int().min(0),
});
export type Duration = z.infer<typeof duration>;

/** Listener and route protocols App Mesh knows. */
export const protocol = z.enum(['http', 'http2', 'grpc', 'tcp']);
export type Protocol = z.infer<typeof protocol>;

/** Gateways speak only the HTTP family. */
export const gatewayProtocol = z.enum(['http', 'http2', 'grpc']);

/** App Mesh `tags`, accepted by create-* input and ignored by meshd. */
export const tags = z.array(z.strictObject({ key: z.string().min(1), value: z.string().optional() }));

/** A list joined the way the error messages read: "A, B or C". */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/**
 * App Mesh unions (`certificate: {file|sds|acm}`, `serviceDiscovery: {dns|awsCloudMap}`, ...) are
 * objects with several optional members of which exactly one must be set. Modelled as a strict
 * object plus a refinement so the error names the members instead of a wall of union branches.
 */
export function exactlyOneOf<T extends z.ZodRawShape, E extends z.ZodRawShape = Record<never, never>>(
  members: T,
  others?: E,
) {
  const keys = Object.keys(members);
  return z.strictObject({ ...members, ...(others ?? {}) } as T & E).superRefine((value, ctx) => {
    const present = keys.filter((key) => (value as Record<string, unknown>)[key] !== undefined);
    if (present.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: present.length === 0
          ? `must set one of ${orList(keys)}`
          : `must set only one of ${orList(keys)} (found ${present.join(' and ')})`,
      });
    }
  });
}

// A DNS name, optionally with a leading wildcard label (`*.apps.local`) and a trailing dot.
const fqdnPattern = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const uriPattern = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;

/** True when a SAN is in FQDN or URI format, as 003 requires. */
export function isFqdnOrUri(san: string): boolean {
  if (san.length > 253 && !uriPattern.test(san)) return false;
  return fqdnPattern.test(san) || uriPattern.test(san);
}

/** True when a SAN contains a wildcard (only allowed when a client policy does not enforce TLS). */
export function isWildcardSan(san: string): boolean {
  return san.includes('*');
}

/** `subjectAlternativeNames: { match: { exact: [...] } }`, each in FQDN or URI format. */
export const subjectAlternativeNames = z.strictObject({
  match: z.strictObject({
    exact: z.array(
      z.string().refine(isFqdnOrUri, { message: 'must be a SAN in FQDN or URI format' }),
    ).min(1),
  }),
});
export type SubjectAlternativeNames = z.infer<typeof subjectAlternativeNames>;

/** String match used by header, metadata and query matches. */
export const stringMatch = exactlyOneOf({
  exact: z.string().optional(),
  prefix: z.string().min(1).optional(),
  suffix: z.string().min(1).optional(),
  regex: z.string().min(1).optional(),
  range: z.strictObject({ start: z.int(), end: z.int() }).optional(),
});

/** Header (HTTP) or metadata (gRPC) match: `{ name, invert?, match? }`. */
export const headerMatch = z.strictObject({
  name: z.string().min(1).max(50),
  invert: z.boolean().optional(),
  match: stringMatch.optional(),
});
export type HeaderMatch = z.infer<typeof headerMatch>;
