// SPIRE-style SDS names (App Mesh's SPIRE integration): a listener or client policy whose
// certificate is `sds: {secretName: spiffe://<trust-domain>/<workload>}` assigns that SPIFFE ID to
// its endpoint. meshd then issues the endpoint's leaf with exactly that URI SAN and serves it under
// that name (and `default`), so callers' SAN lists naming the ID match it. The rules:
//  - the trust domain must be meshd's own: its CA cannot issue an identity in another one;
//  - the path must be SPIFFE ID syntax (segments of letters, digits, '.', '-', '_'; no '.', '..');
//  - `mesh/...` paths are meshd's own default identities (`spiffe://<td>/mesh/<mesh>/<kind>/<name>`),
//    so they cannot be assigned (another endpoint's default identity would be claimed twice);
//  - an endpoint has one identity (one leaf), and an identity belongs to one endpoint.
import type { ClientPolicy, ListenerTls } from '../spec/tls-schema';
import type { Resource, VirtualGatewayResource, VirtualNodeResource } from '../spec/resource-schema';
import { labelOf } from '../spec/resource-schema';
import { report, type ModelContext } from './context';
import { isValidTrustDomain } from '../identity/endpoint-id';

/** A `spiffe://` name split in two; `path` is '' for a trust domain's own name (its bundle). */
export interface SpiffeName {
  readonly trustDomain: string;
  readonly path: string;
}

const SCHEME = 'spiffe://';
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;
/** SPIFFE IDs are at most 2048 bytes (SPIFFE-ID spec, section 2.3). */
const MAX_SPIFFE_ID_BYTES = 2048;
/** meshd's default identities live under this path; no spec may assign one. */
const RESERVED_PREFIX = 'mesh/';

/** Splits a `spiffe://` name; undefined for any other name. */
export function parseSpiffeName(name: string): SpiffeName | undefined {
  if (!name.startsWith(SCHEME)) return undefined;
  const rest = name.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? { trustDomain: rest, path: '' } : { trustDomain: rest.slice(0, slash), path: rest.slice(slash + 1) };
}

/** Why `path` is not SPIFFE ID path syntax, or undefined when it is. */
function pathSyntaxProblem(name: string, path: string): string | undefined {
  if (Buffer.byteLength(name) > MAX_SPIFFE_ID_BYTES) return `is longer than the ${MAX_SPIFFE_ID_BYTES} bytes a SPIFFE ID may have`;
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty path segment (SPIFFE IDs have no "//" and no trailing "/")';
    if (segment === '.' || segment === '..') return `has the path segment "${segment}", which SPIFFE IDs forbid`;
    if (!PATH_SEGMENT.test(segment)) return `has the path segment "${segment}": SPIFFE ID path segments are letters, digits, '.', '-' and '_'`;
  }
  return undefined;
}

/**
 * Why the SPIFFE ID `name` cannot be assigned to an endpoint of a meshd running with
 * `trustDomain` (a phrase to follow the name: "is in trust domain ..."), or undefined when it can. The name must have a path (a bare trust domain is
 * its bundle, which callers handle).
 */
export function assignableIdentityProblem(trustDomain: string, name: string, spiffe: SpiffeName): string | undefined {
  if (spiffe.trustDomain !== trustDomain) {
    const otherDomain = isValidTrustDomain(spiffe.trustDomain) ? `, or run meshd with --trust-domain ${spiffe.trustDomain}` : '';
    return `is in trust domain "${spiffe.trustDomain}", but meshd issues certificates only in its own trust domain "${trustDomain}": name it spiffe://${trustDomain}/<workload>${otherDomain}`;
  }
  const syntax = pathSyntaxProblem(name, spiffe.path);
  if (syntax) return `is not a valid SPIFFE ID: it ${syntax}`;
  if (spiffe.path.startsWith(RESERVED_PREFIX)) {
    return `cannot be assigned: paths under ${RESERVED_PREFIX} are meshd's default endpoint identities (spiffe://${trustDomain}/mesh/<mesh>/<kind>/<name>); name the workload outside ${RESERVED_PREFIX}`;
  }
  return undefined;
}

/** An endpoint's identity: its default SPIFFE ID, or the one its spec assigns and where. */
export interface EndpointIdentity {
  readonly spiffeId: string;
  /** Field path of the certificate name that assigns it; absent for the default identity. */
  readonly assignedAt?: string;
}

type CertificateBlock = ListenerTls['certificate'] | NonNullable<NonNullable<ClientPolicy['tls']>['certificate']> | undefined;

/** Every SDS certificate name of an endpoint's spec with its field path, in spec order. */
function certificateNames(resource: VirtualNodeResource | VirtualGatewayResource): { secretName: string; path: string }[] {
  const names: { secretName: string; path: string }[] = [];
  const add = (certificate: CertificateBlock, path: string): void => {
    if (certificate?.sds) names.push({ secretName: certificate.sds.secretName, path: `${path}.sds.secretName` });
  };
  (resource.spec.listeners ?? []).forEach((listener, i) => add(listener.tls?.certificate, `spec.listeners[${i}].tls.certificate`));
  add(resource.spec.backendDefaults?.clientPolicy?.tls?.certificate, 'spec.backendDefaults.clientPolicy.tls.certificate');
  if (resource.kind === 'VirtualNode') {
    (resource.spec.backends ?? []).forEach((backend, i) => {
      add(backend.virtualService.clientPolicy?.tls?.certificate, `spec.backends[${i}].virtualService.clientPolicy.tls.certificate`);
    });
  }
  return names;
}

/**
 * The identity of an endpoint: the first assignable SPIFFE ID its spec names as a certificate,
 * else `defaultId`. Names that cannot be assigned are reported where they are resolved (tls.ts).
 */
export function endpointIdentity(trustDomain: string, resource: VirtualNodeResource | VirtualGatewayResource, defaultId: string): EndpointIdentity {
  for (const { secretName, path } of certificateNames(resource)) {
    const spiffe = parseSpiffeName(secretName);
    if (!spiffe || spiffe.path === '' || secretName === defaultId) continue;
    if (assignableIdentityProblem(trustDomain, secretName, spiffe) === undefined) return { spiffeId: secretName, assignedAt: path };
  }
  return { spiffeId: defaultId };
}

/** An endpoint's identity claim, for `checkIdentityClaims`. */
export interface IdentityClaim extends EndpointIdentity {
  readonly resource: Resource;
}

/** Reports every endpoint that assigns itself an identity another endpoint already has, naming both. */
export function checkIdentityClaims(context: ModelContext, claims: Iterable<IdentityClaim>): void {
  const firstClaim = new Map<string, IdentityClaim>();
  for (const claim of claims) {
    const first = firstClaim.get(claim.spiffeId);
    if (!first) {
      firstClaim.set(claim.spiffeId, claim);
      continue;
    }
    if (claim.assignedAt === undefined) continue; // default identities are unique by construction
    const where = `${first.resource.source.file}: ${labelOf(first.resource)}${first.assignedAt ? `: ${first.assignedAt}` : ''}`;
    report(context, claim.resource, claim.assignedAt,
      `SPIFFE ID "${claim.spiffeId}" is already the identity of ${labelOf(first.resource)} (${where}): an identity belongs to one endpoint, so give ${labelOf(claim.resource)} its own`);
  }
}
