// TLS contexts for proxyless gRPC (gRFC A29, xDS-based security). gRPC does not speak SDS: a
// proxyless service reads its certificate, key and trust bundle through a certificate provider
// instance declared in its bootstrap (`meshd bootstrap --grpc --cert-dir DIR` declares a
// file_watcher instance named `meshd` over the files `meshd agent` keeps current). So where the
// Envoy form names SDS secrets, this form names that instance:
//   own certificate -> common_tls_context.tls_certificate_provider_instance
//   trust           -> validation_context.ca_certificate_provider_instance
//   SANs            -> validation_context.match_subject_alt_names (StringMatchers: grpc-js-xds
//                      reads these, not match_typed_subject_alt_names)
// What decides TLS (listener mode, client policies, SAN defaults) is shared with the Envoy form.
import type { ProtoObject } from '../envoy/types';
import { DEFAULT_CERTIFICATE_PROVIDER } from '../envoy/grpc-bootstrap';
import {
  DOWNSTREAM_TLS_CONTEXT, UPSTREAM_TLS_CONTEXT, sanMatchersFor, tlsTransportSocket,
  type SanMatcher, type UpstreamTlsSpec,
} from '../envoy/tls';
import type { ListenerTlsModel } from '../model/types';

/** The certificate provider instance every proxyless TLS context refers to. */
export const PROXYLESS_CERTIFICATE_PROVIDER = DEFAULT_CERTIFICATE_PROVIDER;

function providerInstance(): ProtoObject {
  return { instanceName: PROXYLESS_CERTIFICATE_PROVIDER };
}

/** SAN matchers as the StringMatchers grpc checks against every SAN of the peer's certificate. */
export function grpcSanMatchers(sans: readonly SanMatcher[]): ProtoObject[] {
  return sans.map((san) => ({ ...san.match }));
}

/** A CertificateValidationContext with the trust from the provider instance and optional SANs. */
function providerValidationContext(sans: readonly SanMatcher[]): ProtoObject {
  return {
    caCertificateProviderInstance: providerInstance(),
    ...(sans.length > 0 ? { matchSubjectAltNames: grpcSanMatchers(sans) } : {}),
  };
}

/**
 * The DownstreamTlsContext of a proxyless server listener. `validation` makes it mutual TLS
 * (client certificate required and verified against the provider's CA bundle). The SAN list is
 * carried for completeness: grpc-js-xds 1.14 does not check client SANs in its TLS handshake
 * (createCertificateProviderServerCredentials takes no SAN matcher; see server.ts, FilterChainEntry).
 */
export function proxylessDownstreamTlsContext(tls: ListenerTlsModel): ProtoObject {
  const validation = tls.validation;
  return {
    '@type': `type.googleapis.com/${DOWNSTREAM_TLS_CONTEXT}`,
    commonTlsContext: {
      tlsCertificateProviderInstance: providerInstance(),
      ...(validation ? { validationContext: providerValidationContext(sanMatchersFor(validation.subjectAlternativeNames ?? [])) } : {}),
    },
    ...(validation ? { requireClientCertificate: { value: true } } : {}),
  };
}

/**
 * The UpstreamTlsContext of a proxyless client's cluster. grpc-js-xds requires a validation
 * context with a CA provider on every TLS cluster (cluster-resource-type.ts, validateTransportSocket:
 * no validation context is "Unsupported validation_context_type"), so TLS without verifying the
 * server (003: a server with a file-based certificate and no client policy) cannot be expressed:
 * such a cluster validates against the provider's CA bundle and fails closed unless the server's
 * certificate chains to it.
 */
export function proxylessUpstreamTlsContext(spec: UpstreamTlsSpec): ProtoObject {
  return {
    '@type': `type.googleapis.com/${UPSTREAM_TLS_CONTEXT}`,
    commonTlsContext: {
      ...(spec.certificate ? { tlsCertificateProviderInstance: providerInstance() } : {}),
      validationContext: providerValidationContext(spec.validation?.sans ?? []),
    },
    ...(spec.sni ? { sni: spec.sni } : {}),
  };
}

/** The TLS transport socket of a proxyless server filter chain. */
export function proxylessServerTransportSocket(tls: ListenerTlsModel): ProtoObject {
  return tlsTransportSocket(proxylessDownstreamTlsContext(tls));
}

/** The TLS transport socket of a proxyless client cluster. */
export function proxylessClientTransportSocket(spec: UpstreamTlsSpec): ProtoObject {
  return tlsTransportSocket(proxylessUpstreamTlsContext(spec));
}
