// The effective TLS posture of one call path (a caller reaching one listener of a provider node),
// by App Mesh's negotiation rules (003 "How App Mesh configures Envoys to negotiate TLS"), the same
// rules translate/upstream-tls.ts turns into Envoy configuration:
//  - a client policy that enforces TLS and covers the provider's port decides: TLS, validated with
//    the policy's trust and SANs, mutual when the policy names a certificate;
//  - otherwise the provider's listener decides: STRICT or PERMISSIVE -> TLS (the server's
//    certificate verified when meshd's CA issued it), DISABLED or no `tls` -> plaintext;
//  - `validation` on the listener makes it mutual (a client certificate is required), and its SAN
//    list (when given) is checked against the caller's certificate; PERMISSIVE also takes plaintext.
// A path whose two sides cannot agree (the caller enforces TLS towards a plaintext port, the
// provider requires a client certificate the caller does not present, a SAN list that excludes the
// identity meshd's CA puts in the peer's certificate) is `broken`, with the reason: its handshakes
// fail, which is what an operator turning on mTLS most needs to see.
import { isIP } from 'node:net';
import { clientPolicyAppliesTo } from '../model/tls';
import type { BackendModel, EndpointModel, ListenerModel, TargetNodeModel, TlsMode } from '../model/types';

/** The postures a path can have, strongest first. */
export const POSTURES = ['mtls-san', 'mtls', 'tls', 'permissive', 'plaintext', 'broken'] as const;
export type Posture = typeof POSTURES[number];

/** Words for each posture, as the table, the page and the legend print them. */
export const POSTURE_LABELS: Readonly<Record<Posture, string>> = {
  'mtls-san': 'mTLS, SAN checked',
  mtls: 'mTLS, no SAN check',
  tls: 'one-way TLS',
  permissive: 'PERMISSIVE',
  plaintext: 'plaintext',
  broken: 'broken',
};

/** What decides a path's posture, each fact as the configuration meshd serves has it. */
export interface PostureFacts {
  /** The provider listener's `tls.mode`, or `none` without a `tls` block. */
  readonly providerMode: TlsMode | 'none';
  /** Where the caller's client policy for this service comes from. */
  readonly clientPolicy: BackendModel['clientPolicySource'];
  /** Whether that policy enforces TLS on this port (so it, not the provider, decides). */
  readonly clientPolicyApplies: boolean;
  /** The caller originates TLS. */
  readonly encrypted: boolean;
  /** The caller presents a certificate of its own. */
  readonly callerPresentsCertificate: boolean;
  /** The caller verifies the provider's certificate against a trust. */
  readonly callerVerifiesProvider: boolean;
  /** The provider requires and verifies a client certificate (listener `validation`). */
  readonly providerRequiresClientCertificate: boolean;
  /** The provider checks the client certificate's SANs against a list. */
  readonly providerChecksCallerSan: boolean;
  /** The provider's port also takes plaintext (PERMISSIVE, DISABLED or no TLS). */
  readonly providerAcceptsPlaintext: boolean;
}

export interface PostureResult {
  readonly posture: Posture;
  readonly facts: PostureFacts;
  /** One sentence on why, naming the fields that decide it. */
  readonly reason: string;
}

/** The names meshd's CA puts in an endpoint's leaf: its SPIFFE ID and its DNS service-discovery name. */
function meshIssuedSans(spiffeId: string, hostname: string | undefined): string[] {
  return [spiffeId, ...(hostname !== undefined && isIP(hostname) === 0 ? [hostname] : [])];
}

/** Whether an exact or `*.`-wildcard SAN list accepts any of `names`. */
function sanListAccepts(list: readonly string[], names: readonly string[]): boolean {
  return names.some((name) => list.some((entry) => entry === name
    || (entry.startsWith('*.') && name.endsWith(entry.slice(1)) && !name.slice(0, -entry.length + 1).includes('.'))));
}

/**
 * The posture of `caller` reaching `listener` of `target` through `backend`. Pure: it reads only
 * the model, so the page, `meshd status --edges` and the tests agree by construction.
 */
export function postureOf(caller: EndpointModel, backend: BackendModel, target: TargetNodeModel, listener: ListenerModel): PostureResult {
  const port = listener.port;
  const tls = listener.tls;
  const providerMode: PostureFacts['providerMode'] = tls?.mode ?? 'none';
  const serverTls = providerMode === 'STRICT' || providerMode === 'PERMISSIVE';
  const policy = backend.clientPolicy;
  const clientPolicyApplies = policy !== undefined && policy.enforce && clientPolicyAppliesTo(policy, port);
  const encrypted = clientPolicyApplies || serverTls;
  const callerCertificate = clientPolicyApplies ? policy!.certificate : undefined;
  const validation = serverTls ? tls!.validation : undefined;
  const facts: PostureFacts = {
    providerMode,
    clientPolicy: backend.clientPolicySource,
    clientPolicyApplies,
    encrypted,
    callerPresentsCertificate: encrypted && callerCertificate !== undefined,
    callerVerifiesProvider: clientPolicyApplies || (serverTls && tls!.certificate.issuedByMeshCa),
    providerRequiresClientCertificate: validation !== undefined,
    providerChecksCallerSan: validation?.subjectAlternativeNames !== undefined,
    providerAcceptsPlaintext: !serverTls || providerMode === 'PERMISSIVE',
  };
  const where = `${target.name} port ${port}`;
  const policyName = backend.clientPolicySource === 'backend' ? `the client policy of backend ${backend.virtualServiceName}` : 'backendDefaults.clientPolicy';
  const result = (posture: Posture, reason: string): PostureResult => ({ posture, facts, reason });

  if (clientPolicyApplies && !serverTls) {
    return result('broken', `${caller.name} enforces TLS (${policyName}) but ${where} does not terminate TLS (tls.mode ${providerMode}): connections fail`);
  }
  if (!encrypted) {
    return result('plaintext', providerMode === 'none' ? `${where} has no tls block and ${caller.name} has no client policy enforcing TLS on it`
      : `${where} has tls.mode DISABLED and ${caller.name} has no client policy enforcing TLS on it`);
  }
  if (validation && !callerCertificate) {
    return result('broken', `${where} requires a client certificate (tls.validation) but ${caller.name} presents none`
      + ` (${clientPolicyApplies ? `${policyName} has no certificate` : 'no client policy with a certificate enforces TLS on this port'}): handshakes fail`);
  }
  // SAN lists checked against the identities meshd's CA certifies (other certificates are unknown here).
  const callerListed = validation?.subjectAlternativeNames;
  if (callerListed && callerCertificate?.issuedByMeshCa) {
    const callerSans = meshIssuedSans(caller.spiffeId, caller.serviceDiscovery?.hostname);
    if (!sanListAccepts(callerListed, callerSans)) {
      return result('broken', `${where} accepts client SANs ${callerListed.join(', ')} but ${caller.name}'s certificate is ${callerSans.join(', ')}: handshakes fail (ssl.fail_verify_san)`);
    }
  }
  const providerListed = clientPolicyApplies ? policy!.validation.subjectAlternativeNames : undefined;
  if (providerListed && tls!.certificate.issuedByMeshCa) {
    const providerSans = meshIssuedSans(target.spiffeId, target.serviceDiscovery?.hostname);
    if (!sanListAccepts(providerListed, providerSans)) {
      return result('broken', `${caller.name} accepts server SANs ${providerListed.join(', ')} (${policyName}) but ${target.name}'s certificate is ${providerSans.join(', ')}: handshakes fail`);
    }
  }
  const mutual = validation !== undefined;
  const strength = mutual
    ? (facts.providerChecksCallerSan ? `mutual TLS, ${target.name} checks ${caller.name}'s SAN` : `mutual TLS, ${target.name} checks the client certificate's trust but not its SAN`)
    : `TLS, ${target.name} does not ask for a client certificate${facts.callerVerifiesProvider ? '' : ` and ${caller.name} does not verify ${target.name}'s certificate (file-based)`}`;
  if (providerMode === 'PERMISSIVE') return result('permissive', `${where} is PERMISSIVE: it also accepts plaintext; ${caller.name} uses ${strength}`);
  if (!mutual) return result('tls', `${where}: ${strength}`);
  return result(facts.providerChecksCallerSan ? 'mtls-san' : 'mtls', `${where} is STRICT: ${strength}`);
}
