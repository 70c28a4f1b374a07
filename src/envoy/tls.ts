// Builders of Envoy TLS messages (DownstreamTlsContext, UpstreamTlsContext and their
// CommonTlsContext) from the model's normalized certificate and trust sources:
//   file sources -> inline `filename` data sources, which Envoy reads itself (as App Mesh does);
//   sds and acm sources -> SdsSecretConfig naming the secret, fetched from meshd's SDS cluster.
// A SAN list needs a CertificateValidationContext beside the trust, so an SDS trust with SANs
// becomes a CombinedValidationContext (SANs inline, CA bundle over SDS).
import { isIP } from 'node:net';
import type { ProtoObject } from './types';
import type { CertificateSource, ListenerTlsModel, TrustSource } from '../model/types';
import { shareEncoding } from '../xds/encode';

export const DOWNSTREAM_TLS_CONTEXT = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const UPSTREAM_TLS_CONTEXT = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
/** Envoy's name of the TLS transport socket. */
export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';

/** SAN types of Envoy's SubjectAltNameMatcher that meshd generates. */
export type SanType = 'DNS' | 'URI' | 'IP_ADDRESS';

/** One accepted SAN: its type and how its value must match. */
export interface SanMatcher {
  readonly sanType: SanType;
  readonly match: { readonly exact: string } | { readonly suffix: string };
}

/** What a peer's certificate is checked against: trust and, when non-empty, accepted SANs. */
export interface PeerValidation {
  readonly trust: TrustSource;
  readonly sans: readonly SanMatcher[];
}

/** The ConfigSource that SDS secret configs use (meshd's SDS cluster with the node credential). */
export type SdsConfigSource = ProtoObject;

/**
 * The SAN type of a name as App Mesh lists them (FQDN or URI): a URI has a scheme
 * (`spiffe://...`), an IP literal is an IP SAN, anything else is a DNS name.
 */
export function sanTypeOf(name: string): SanType {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(name) && isIP(name) === 0) return 'URI';
  if (isIP(name) !== 0) return 'IP_ADDRESS';
  return 'DNS';
}

/**
 * Matchers for a SAN list. A wildcard DNS name `*.apps.local` (allowed only in non-enforcing
 * client policies) accepts any name under `apps.local`, so it becomes a suffix match.
 */
export function sanMatchersFor(names: readonly string[]): SanMatcher[] {
  const matchers = names.map((name): SanMatcher => {
    const sanType = sanTypeOf(name);
    if (sanType === 'DNS' && name.startsWith('*.')) return { sanType, match: { suffix: name.slice(1) } };
    return { sanType, match: { exact: name } };
  });
  return dedupeSans(matchers);
}

function dedupeSans(matchers: readonly SanMatcher[]): SanMatcher[] {
  const seen = new Set<string>();
  return matchers.filter((matcher) => {
    const key = JSON.stringify(matcher);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** An SdsSecretConfig: the secret `name`, fetched over `sdsConfig`. */
export function sdsSecretConfig(name: string, sdsConfig: SdsConfigSource): ProtoObject {
  return { name, sdsConfig };
}

/** The certificate part of a CommonTlsContext. */
export function certificateFields(certificate: CertificateSource, sdsConfig: SdsConfigSource): ProtoObject {
  if (certificate.kind === 'file') {
    return {
      tlsCertificates: [{
        certificateChain: { filename: certificate.certificateChain },
        privateKey: { filename: certificate.privateKey },
      }],
    };
  }
  return { tlsCertificateSdsSecretConfigs: [sdsSecretConfig(certificate.secretName, sdsConfig)] };
}

function sanMatcherMessage(matcher: SanMatcher): ProtoObject {
  return { sanType: matcher.sanType, matcher: { ...matcher.match } };
}

const sanMatchingByList = new WeakMap<readonly SanMatcher[], ProtoObject>();

/**
 * A CertificateValidationContext holding only the SAN matchers of `sans`: one per list object,
 * shared and encoded once (a target's SAN list is the same object for each of its callers).
 */
function sanMatching(sans: readonly SanMatcher[]): ProtoObject {
  let context = sanMatchingByList.get(sans);
  if (!context) {
    context = shareEncoding({ matchTypedSubjectAltNames: sans.map(sanMatcherMessage) });
    sanMatchingByList.set(sans, context);
  }
  return context;
}

/** The validation part of a CommonTlsContext. */
export function validationFields(validation: PeerValidation, sdsConfig: SdsConfigSource): ProtoObject {
  const { trust, sans } = validation;
  if (trust.kind === 'file') {
    return {
      validationContext: {
        trustedCa: { filename: trust.certificateChain },
        ...(sans.length > 0 ? { matchTypedSubjectAltNames: sanMatching(sans).matchTypedSubjectAltNames } : {}),
      },
    };
  }
  const secret = sdsSecretConfig(trust.secretName, sdsConfig);
  if (sans.length === 0) return { validationContextSdsSecretConfig: secret };
  return {
    combinedValidationContext: {
      defaultValidationContext: sanMatching(sans),
      validationContextSdsSecretConfig: secret,
    },
  };
}

/** A CommonTlsContext from an optional own certificate and optional peer validation. */
export function commonTlsContext(
  parts: { certificate?: CertificateSource; validation?: PeerValidation; alpnProtocols?: readonly string[] },
  sdsConfig: SdsConfigSource,
): ProtoObject {
  return {
    ...(parts.certificate ? certificateFields(parts.certificate, sdsConfig) : {}),
    ...(parts.validation ? validationFields(parts.validation, sdsConfig) : {}),
    ...(parts.alpnProtocols && parts.alpnProtocols.length > 0 ? { alpnProtocols: [...parts.alpnProtocols] } : {}),
  };
}

/**
 * The DownstreamTlsContext of a listener's TLS termination. `validation` makes it mutual TLS:
 * a client certificate is required and checked against the trust and, only when SANs are
 * listed, against them (003: no SANs on the terminating side means the SAN is not checked).
 */
export function downstreamTlsContext(
  tls: ListenerTlsModel,
  sdsConfig: SdsConfigSource,
  alpnProtocols: readonly string[] = [],
): ProtoObject {
  const validation = tls.validation
    ? { trust: tls.validation.trust, sans: sanMatchersFor(tls.validation.subjectAlternativeNames ?? []) }
    : undefined;
  return {
    '@type': `type.googleapis.com/${DOWNSTREAM_TLS_CONTEXT}`,
    commonTlsContext: commonTlsContext({ certificate: tls.certificate, ...(validation ? { validation } : {}), alpnProtocols }, sdsConfig),
    ...(validation ? { requireClientCertificate: { value: true } } : {}),
  };
}

/** What an egress cluster's TLS origination needs, decided by the client-policy rules. */
export interface UpstreamTlsSpec {
  /** SNI to send; absent for IP literals (RFC 6066 allows host names only). */
  readonly sni?: string;
  /** The client's own certificate (mutual TLS). */
  readonly certificate?: CertificateSource;
  /** Server validation; absent means TLS without verifying the server (file-based server certs). */
  readonly validation?: PeerValidation;
}

/** The UpstreamTlsContext of an egress cluster. */
export function upstreamTlsContext(spec: UpstreamTlsSpec, sdsConfig: SdsConfigSource): ProtoObject {
  return {
    '@type': `type.googleapis.com/${UPSTREAM_TLS_CONTEXT}`,
    commonTlsContext: commonTlsContext({
      ...(spec.certificate ? { certificate: spec.certificate } : {}),
      ...(spec.validation ? { validation: spec.validation } : {}),
    }, sdsConfig),
    ...(spec.sni ? { sni: spec.sni } : {}),
  };
}

/** A TransportSocket wrapping a TLS context. */
export function tlsTransportSocket(typedConfig: ProtoObject): ProtoObject {
  return { name: TLS_TRANSPORT_SOCKET, typedConfig };
}

/** Every SDS secret name a built message refers to (tls_certificate and validation configs). */
export function sdsSecretNamesIn(message: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(message)) {
    for (const item of message) sdsSecretNamesIn(item, into);
  } else if (message !== null && typeof message === 'object') {
    for (const [key, value] of Object.entries(message)) {
      if (key === 'tlsCertificateSdsSecretConfigs' && Array.isArray(value)) {
        for (const config of value) into.add(String((config as ProtoObject).name));
      } else if (key === 'validationContextSdsSecretConfig') {
        into.add(String((value as ProtoObject).name));
      } else {
        sdsSecretNamesIn(value, into);
      }
    }
  }
  return into;
}
