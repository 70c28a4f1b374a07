// TLS origination towards a backend's virtual node, by the rules of 003 "How App Mesh configures
// Envoys to negotiate TLS":
//  - with a client policy that enforces TLS and covers the server's port: TLS with the policy's
//    trust and SANs, and its certificate for mutual TLS;
//  - otherwise the server decides: STRICT or PERMISSIVE -> TLS; a certificate issued by meshd's CA
//    (acm, or SDS endpoint-certificate) is validated against meshd's CA bundle; a file-based one
//    is not validated; DISABLED or no TLS -> plaintext.
// SANs: without a SAN list on the originating side, the server's certificate must match the
// server's service-discovery name; meshd's CA also puts the SPIFFE ID in the leaves it issues,
// so that is accepted too for meshd-issued server certificates.
import { isIP } from 'node:net';
import { clientPolicyAppliesTo } from '../model/tls';
import { trustDomainId } from '../identity/endpoint-id';
import type { BackendModel, EndpointModel, ListenerModel, TargetNodeModel, TrustSource } from '../model/types';
import { sanMatchersFor, type SanMatcher, type UpstreamTlsSpec } from '../envoy/tls';

/** meshd's CA bundle as a trust source (`spiffe://<trustDomain>` over SDS). */
export function meshCaTrust(trustDomain: string): TrustSource {
  return { kind: 'sds', secretName: trustDomainId(trustDomain), provision: { kind: 'ca-bundle' } };
}

// SAN lists by the model objects they come from, so every caller of a target gets the same
// (frozen) list, and envoy/tls.ts encodes its SAN matching once for all of them.
const defaultSans = new WeakMap<TargetNodeModel, WeakMap<ListenerModel, readonly SanMatcher[]>>();
const listedSans = new WeakMap<readonly string[], readonly SanMatcher[]>();

/** The SANs a server certificate must carry when the client lists none. */
export function defaultServerSans(target: TargetNodeModel, listener: ListenerModel): readonly SanMatcher[] {
  let byListener = defaultSans.get(target);
  if (!byListener) defaultSans.set(target, byListener = new WeakMap());
  let sans = byListener.get(listener);
  if (!sans) {
    const names: string[] = [];
    if (target.serviceDiscovery) names.push(target.serviceDiscovery.hostname);
    if (listener.tls?.certificate.issuedByMeshCa) names.push(target.spiffeId);
    byListener.set(listener, sans = Object.freeze(sanMatchersFor(names)));
  }
  return sans;
}

function listedServerSans(listed: readonly string[]): readonly SanMatcher[] {
  let sans = listedSans.get(listed);
  if (!sans) listedSans.set(listed, sans = Object.freeze(sanMatchersFor(listed)));
  return sans;
}

/** The UpstreamTlsContext inputs for `endpoint` reaching `target`'s `listener`, or undefined for plaintext. */
export function upstreamTlsFor(
  endpoint: EndpointModel,
  backend: BackendModel,
  target: TargetNodeModel,
  listener: ListenerModel,
): UpstreamTlsSpec | undefined {
  const hostname = target.serviceDiscovery?.hostname;
  const sni = hostname !== undefined && isIP(hostname) === 0 ? { sni: hostname } : {};
  const policy = backend.clientPolicy;
  if (policy && policy.enforce && clientPolicyAppliesTo(policy, listener.port)) {
    const listed = policy.validation.subjectAlternativeNames;
    return {
      ...sni,
      ...(policy.certificate ? { certificate: policy.certificate } : {}),
      validation: {
        trust: policy.validation.trust,
        sans: listed ? listedServerSans(listed) : defaultServerSans(target, listener),
      },
    };
  }
  const tls = listener.tls;
  if (!tls || tls.mode === 'DISABLED') return undefined;
  if (!tls.certificate.issuedByMeshCa) return { ...sni };
  return { ...sni, validation: { trust: meshCaTrust(endpoint.trustDomain), sans: defaultServerSans(target, listener) } };
}
