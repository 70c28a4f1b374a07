// Building blocks shared by the App Mesh spec schemas: names, ports, durations, "exactly one of"
// unions and SAN formats. Every object is strict, so an unknown or misspelt field is an error
// instead of being silently dropped.
import { z } from 'zod';

// Limits below come from App Mesh's API model (botocore `appmesh/2019-01-25/service-2.json`), by
// shape name; where the model is silent, from what the name must stand in (said in each message).

/** A name as App Mesh's model allows it (shape `ResourceName`: 1-255 characters); used for references. */
export const resourceName = z.string().min(1).max(255);

// Control characters (C0, DEL, C1) and every kind of Unicode white space.
const whitespaceOrControl = /[\s\u0000-\u001f\u007f-\u009f]/u;

/**
 * The name of a mesh, virtual node or virtual gateway. The model says only 1-255 characters, but the
 * name is a segment of the proxy's node id (`mesh/<mesh>/virtualNode/<name>`, which meshd parses
 * with this same rule) and of its SPIFFE ID path, whose segments may hold only letters, digits,
 * ".", "_" and "-" (SPIFFE ID standard, section 2.2).
 */
export const endpointName = resourceName.regex(
  /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
  'must start with a letter or digit and hold only letters, digits, ".", "_" and "-": it is part of the node id mesh/<mesh>/virtualNode/<name> and of the SPIFFE ID',
);

/**
 * The name of a virtual router, route or gateway route: 1-255 characters (`ResourceName`) and no
 * "/", white space or control character, which would break the App Mesh ARN path and the Envoy
 * resource and statistics names it becomes part of.
 */
export const routingName = resourceName.refine(
  (name) => !name.includes('/') && !whitespaceOrControl.test(name),
  { message: 'must not contain "/", white space or control characters: it is part of Envoy resource names and of the App Mesh ARN' },
);

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, 1-63 characters
// each, 253 in all (the DNS limit; the model's `ServiceName` has none).
const hostNamePattern = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A virtual service name: callers reach the service by it (DNS, the HTTP Host header), so it is a host name. */
export const virtualServiceName = z.string().min(1).max(253).regex(
  hostNamePattern,
  'must be a host name (dot-separated labels of letters, digits and "-", at most 63 characters each): callers reach the virtual service by this name',
);

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
export const tags = z.array(z.strictObject({ key: z.string().min(1).max(128), value: z.string().max(256).optional() })).max(50); // TagList, TagKey, TagValue

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
      z.string().max(254).refine(isFqdnOrUri, { message: 'must be a SAN in FQDN or URI format' }), // SubjectAlternativeName
    ).min(1),
  }),
});
export type SubjectAlternativeNames = z.infer<typeof subjectAlternativeNames>;

/** String match used by header, metadata and query matches (values: `HeaderMatch`, at most 255). */
export const stringMatch = exactlyOneOf({
  exact: z.string().max(255).optional(),
  prefix: z.string().min(1).max(255).optional(),
  suffix: z.string().min(1).max(255).optional(),
  regex: z.string().min(1).max(255).optional(),
  range: z.strictObject({ start: z.int(), end: z.int() }).optional(),
});

/** Header (HTTP) or metadata (gRPC) match: `{ name, invert?, match? }`. */
export const headerMatch = z.strictObject({
  name: z.string().min(1).max(50),
  invert: z.boolean().optional(),
  match: stringMatch.optional(),
});
export type HeaderMatch = z.infer<typeof headerMatch>;
