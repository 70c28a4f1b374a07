// The surface other parts of meshd (SDS server, CLI, admin) use.
export type { IssuedLeaf, MeshEndpoint, MeshEndpointKind, SubjectAltNames, TlsCertificateMaterial, TrustBundleMaterial } from './types';
export { contentVersion, leafSpiffeIdFor } from './types';
export { CertificateAuthority, type CaKeyAlgorithm, type CertificateAuthorityOptions } from './ca';
export { issueLeaf, validateEndpoint, DEFAULT_LEAF_TTL_MS, type IssueOptions } from './issuer';
export { TrustAuthority, type RolloverStatus, type TrustAuthorityEvents, type TrustAuthorityOptions } from './authority';
export { EndpointCertificates, type CertificateChange, type EndpointCertificatesEvents, type EndpointCertificatesOptions } from './endpoint-certificates';
export { FileSecretSource, type FileSecretSourceEvents, type FileSecretSourceOptions, type Refusal } from './file-source';
export { MaterialError, validateTlsCertificate, validateTrustBundle } from './pem-validation';
export { ensureDevCerts, type DevCerts, type DevEndpointFiles } from './dev-certs';
