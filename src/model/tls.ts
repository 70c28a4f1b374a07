// Normalizing TLS blocks of an endpoint (listener termination, client policies) and resolving
// every SDS secret name they use to what meshd's SDS serves for it. meshd serves, to an endpoint:
// its SPIFFE ID and `default` (its own leaf), `spiffe://<trustDomain>` and `ROOTCA` (the CA
// bundle), and the mesh's `Secret` resources. Any other name is an error: nothing would serve it.
// The SPIFFE ID is the default `spiffe://<td>/mesh/<mesh>/<kind>/<name>` unless the spec assigns
// one SPIRE-style (spiffe-identity.ts). Every hint an error prints names something that works.
import type { ClientPolicy, ListenerTls, Trust, Validation } from '../spec/tls-schema';
import type { Resource } from '../spec/resource-schema';
import { isInvalid, report, type ModelContext } from './context';
import { tryParseNodeId, trustDomainId } from '../identity/endpoint-id';
import { meshKey, type ResourceIndex } from './index-resources';
import { assignableIdentityProblem, parseSpiffeName, type SpiffeName } from './spiffe-identity';
import type { CertificateSource, ClientPolicyModel, ListenerTlsModel, SdsProvision, SdsSecretUse, TrustSource, ValidationModel } from './types';

/** The endpoint whose configuration is being normalized. */
export interface EndpointScope {
  readonly context: ModelContext;
  readonly index: ResourceIndex;
  readonly resource: Resource;
  readonly meshName: string;
  /** The endpoint's identity: the SPIFFE ID its spec assigns, else its default one. */
  readonly spiffeId: string;
  /** Field path of the certificate name that assigns `spiffeId`; absent for the default identity. */
  readonly assignedAt?: string;
  /** `spiffe://<td>/mesh/<mesh>/<kind>/<name>`, whatever identity the spec assigns. */
  readonly defaultSpiffeId: string;
  /** SDS names used so far, collected for `EndpointModel.sdsSecrets`. */
  readonly sdsSecrets: Map<string, SdsProvision>;
}

type Usage = 'certificate' | 'trust';

// Stands in for a name that failed to resolve; the model is not returned when errors exist.
const unresolved: SdsProvision = { kind: 'ca-bundle' };

/** What is wrong with a `spiffe://` name meshd does not serve this endpoint (never undefined). */
function spiffeNameProblem(scope: EndpointScope, secretName: string, spiffe: SpiffeName, usage: Usage): string {
  const { trustDomain } = scope.context;
  const bundleId = trustDomainId(trustDomain);
  const ownNames = `${scope.spiffeId} or default`;
  if (usage === 'trust') {
    if (spiffe.path !== '') return `SDS secret "${secretName}" is a SPIFFE ID (a certificate), not a trust bundle (use ${bundleId} or ROOTCA)`;
    return `SDS secret "${secretName}" is the bundle of trust domain "${spiffe.trustDomain}", but meshd serves only its own trust domain's bundle: use ${bundleId} or ROOTCA (to trust another CA, declare a Secret with spec.file.trustedCa under a name that is not a SPIFFE ID)`;
  }
  if (spiffe.path === '') {
    return spiffe.trustDomain === trustDomain
      ? `SDS secret "${secretName}" is the CA trust bundle, not a certificate (use ${ownNames})`
      : `SDS secret "${secretName}" is the bundle of trust domain "${spiffe.trustDomain}", not a certificate (use ${ownNames})`;
  }
  const assignable = assignableIdentityProblem(trustDomain, secretName, spiffe);
  const identityNote = scope.assignedAt ? `${scope.spiffeId}, assigned at ${scope.assignedAt}` : scope.spiffeId;
  if (spiffe.trustDomain === trustDomain && spiffe.path.startsWith('mesh/')) {
    const endpoint = tryParseNodeId(spiffe.path);
    if (secretName === scope.defaultSpiffeId) {
      return `SDS secret "${secretName}" is this endpoint's default identity, but its spec assigns it ${identityNote}: an endpoint has one identity, so use ${ownNames}`;
    }
    if (endpoint) return `SDS secret "${secretName}" is another endpoint's identity: a proxy is served only its own (${scope.spiffeId})`;
  }
  if (assignable) return `SDS secret "${secretName}" ${assignable}`;
  return `SDS secret "${secretName}": this endpoint's identity is ${identityNote}; an endpoint has one identity, so use ${ownNames}`;
}

function resolveSds(scope: EndpointScope, secretName: string, usage: Usage, path: string): SdsProvision {
  const { context } = scope;
  const bundleId = trustDomainId(context.trustDomain);
  const spiffe = parseSpiffeName(secretName);
  let provision: SdsProvision | undefined;
  let problem: string | undefined;
  if (secretName === scope.spiffeId || secretName === 'default') {
    provision = { kind: 'endpoint-certificate' };
    if (usage === 'trust') problem = `SDS secret "${secretName}" is this endpoint's own certificate, not a trust bundle (use ${bundleId} or ROOTCA)`;
  } else if (secretName === bundleId || secretName === 'ROOTCA') {
    provision = { kind: 'ca-bundle' };
    if (usage === 'certificate') problem = `SDS secret "${secretName}" is the CA trust bundle, not a certificate (use ${scope.spiffeId} or default)`;
  } else if (spiffe) {
    // A Secret cannot have a spiffe:// name (reserved), so no hint points there.
    problem = spiffeNameProblem(scope, secretName, spiffe, usage);
  } else {
    const secret = scope.index.secrets.get(meshKey(scope.meshName, secretName));
    if (secret) {
      const file = secret.spec.file;
      if (file.trustedCa !== undefined) {
        provision = { kind: 'file-trust', trustedCa: file.trustedCa };
        if (usage === 'certificate') problem = `SDS secret "${secretName}" is a trusted CA (Secret in ${secret.source.file}), not a certificate`;
      } else {
        provision = { kind: 'file-certificate', certificateChain: file.certificateChain!, privateKey: file.privateKey! };
        if (usage === 'trust') problem = `SDS secret "${secretName}" is a certificate (Secret in ${secret.source.file}), not a trusted CA`;
      }
    } else if (isInvalid(context, 'Secret', scope.meshName, secretName)) {
      return unresolved;
    } else {
      problem = `SDS secret "${secretName}" is not served by meshd: use ${usage === 'certificate'
        ? `${scope.spiffeId} or default` : `${bundleId} or ROOTCA`}, or declare a Secret named "${secretName}" in mesh ${scope.meshName}`;
    }
  }
  if (problem !== undefined || provision === undefined) {
    report(context, scope.resource, path, problem ?? `SDS secret "${secretName}" cannot be resolved`);
    return unresolved;
  }
  scope.sdsSecrets.set(secretName, provision);
  return provision;
}

function certificateFrom(
  scope: EndpointScope,
  certificate: NonNullable<ListenerTls['certificate']> | NonNullable<NonNullable<ClientPolicy['tls']>['certificate']>,
  path: string,
): CertificateSource {
  if (certificate.file) {
    return { kind: 'file', certificateChain: certificate.file.certificateChain, privateKey: certificate.file.privateKey, issuedByMeshCa: false };
  }
  if (certificate.sds) {
    const provision = resolveSds(scope, certificate.sds.secretName, 'certificate', `${path}.sds.secretName`);
    return { kind: 'sds', secretName: certificate.sds.secretName, provision, issuedByMeshCa: provision.kind === 'endpoint-certificate' };
  }
  // acm (listeners only): meshd issues the endpoint's certificate from its own CA and serves it
  // under the endpoint's SPIFFE ID.
  const acm = 'acm' in certificate ? certificate.acm : undefined;
  if (!acm) throw new Error(`${path}: certificate without a source passed validation`);
  const provision: SdsProvision = { kind: 'endpoint-certificate' };
  scope.sdsSecrets.set(scope.spiffeId, provision);
  return { kind: 'acm', certificateArn: acm.certificateArn, secretName: scope.spiffeId, provision, issuedByMeshCa: true };
}

function trustFrom(scope: EndpointScope, trust: Trust, path: string): TrustSource {
  if (trust.file) return { kind: 'file', certificateChain: trust.file.certificateChain };
  if (trust.sds) {
    const provision = resolveSds(scope, trust.sds.secretName, 'trust', `${path}.sds.secretName`);
    return { kind: 'sds', secretName: trust.sds.secretName, provision };
  }
  const secretName = trustDomainId(scope.context.trustDomain);
  const provision: SdsProvision = { kind: 'ca-bundle' };
  scope.sdsSecrets.set(secretName, provision);
  return { kind: 'acm', certificateAuthorityArns: [...trust.acm!.certificateAuthorityArns], secretName, provision };
}

function validationFrom(scope: EndpointScope, validation: Validation, path: string): ValidationModel {
  const sans = validation.subjectAlternativeNames?.match.exact;
  return {
    trust: trustFrom(scope, validation.trust, `${path}.trust`),
    ...(sans ? { subjectAlternativeNames: [...sans] } : {}),
  };
}

/** A listener's `tls`, normalized; `path` is where it is (`spec.listeners[0].tls`). */
export function listenerTlsFrom(scope: EndpointScope, tls: ListenerTls, path: string): ListenerTlsModel {
  return {
    mode: tls.mode,
    certificate: certificateFrom(scope, tls.certificate, `${path}.certificate`),
    ...(tls.validation ? { validation: validationFrom(scope, tls.validation, `${path}.validation`) } : {}),
  };
}

/** A `clientPolicy`, normalized with App Mesh defaults; undefined when it has no `tls`. */
export function clientPolicyFrom(scope: EndpointScope, policy: ClientPolicy | undefined, path: string): ClientPolicyModel | undefined {
  const tls = policy?.tls;
  if (!tls) return undefined;
  return {
    enforce: tls.enforce ?? true,
    ports: [...(tls.ports ?? [])].sort((a, b) => a - b),
    ...(tls.certificate ? { certificate: certificateFrom(scope, tls.certificate, `${path}.tls.certificate`) } : {}),
    validation: validationFrom(scope, tls.validation, `${path}.tls.validation`),
  };
}

/** True when a client policy applies to connections to `port` (no ports listed: every port). */
export function clientPolicyAppliesTo(policy: ClientPolicyModel, port: number): boolean {
  return policy.ports.length === 0 || policy.ports.includes(port);
}

/** The SDS names collected in a scope, sorted by name. */
export function sdsSecretsOf(scope: EndpointScope): SdsSecretUse[] {
  return [...scope.sdsSecrets.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([secretName, provision]) => ({ secretName, provision }));
}
