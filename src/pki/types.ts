// The secret model src/pki produces and the SDS server consumes. Two kinds of material, each with
// a content-derived `version` that changes exactly when the served bytes change, so a server can
// compare versions instead of contents and push only real changes.
import { spiffeIdOf, type EndpointKind } from '../identity/endpoint-id';
import { hash } from 'node:crypto';
import { shortHex } from '../util/short-hex';

/** Subject alternative names of a certificate. */
export interface SubjectAltNames {
  /** URI SANs, e.g. `spiffe://example.org/mesh/m/virtualNode/a`. */
  uris: string[];
  /** DNS SANs. */
  dnsNames: string[];
}

/** A certificate and its private key: an SDS `tls_certificate`. */
export interface TlsCertificateMaterial {
  /** Leaf first, then any intermediates (PEM). Our CA is a root, so its leaves carry only the leaf. */
  certificateChainPem: string;
  /** PKCS#8 PEM of the leaf's private key. Never log this; never put it in an error. */
  privateKeyPem: string;
  /** Leaf serial number, lower-case hex without separators. */
  serial: string;
  /** Leaf validity start. */
  notBefore: Date;
  /** Leaf validity end. */
  notAfter: Date;
  /** The leaf's SANs. */
  sans: SubjectAltNames;
  /** Content hash of the certificate chain (which determines the key); changes when the pair changes. */
  version: string;
}

/** Trusted CA certificates: an SDS `validation_context`. */
export interface TrustBundleMaterial {
  /** Concatenated PEM of every trusted CA certificate. */
  trustedCaPem: string;
  /** Serial (hex) of each CA in the bundle, in bundle order. */
  caSerials: string[];
  /** Content hash of `trustedCaPem`. */
  version: string;
}

/** The kinds of mesh endpoint that get certificates. */
export type MeshEndpointKind = EndpointKind;

/** A mesh endpoint (an Envoy or proxyless service) that needs a certificate. */
export interface MeshEndpoint {
  /** Mesh name. */
  mesh: string;
  /** Virtual node or virtual gateway. */
  kind: MeshEndpointKind;
  /** Name of the virtual node or gateway. */
  name: string;
  /** DNS SANs to include (the endpoint's service-discovery names). */
  dnsNames: string[];
  /**
   * The SPIFFE ID its leaf certifies when its spec assigns one (SPIRE style: a certificate named
   * `spiffe://<trust-domain>/<workload>`); without it, its default identity (`spiffeIdOf`).
   */
  spiffeId?: string;
}

/** A leaf issued by the built-in CA: the TLS material plus where it came from. */
export interface IssuedLeaf extends TlsCertificateMaterial {
  /** Id of the CA that signed it (see CertificateAuthority.id). */
  caId: string;
  /** The endpoint it was issued for. */
  endpoint: MeshEndpoint;
  /** The endpoint's SPIFFE ID (also the leaf's URI SAN). */
  spiffeId: string;
}

/** Hex SHA-256 prefix of the given strings: the version scheme of every material here. */
export function contentVersion(...parts: string[]): string {
  // One-shot hash of the parts, each followed by NUL (what hashing them one update at a time gave,
  // without a Hash object per leaf).
  return shortHex(hash('sha256', parts.map((part) => `${part}\0`).join(''), 'hex'));
}

/** The SPIFFE ID an endpoint's leaf certifies (its URI SAN): the assigned one, else its default. */
export function leafSpiffeIdFor(trustDomain: string, endpoint: Pick<MeshEndpoint, 'mesh' | 'kind' | 'name' | 'spiffeId'>): string {
  return endpoint.spiffeId ?? spiffeIdOf(trustDomain, endpoint);
}
