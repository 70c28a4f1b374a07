// Envoy Secret resources (envoy.extensions.transport_sockets.tls.v3.Secret) as SDS serves them.
// Material is inline: the proxy never reads key files meshd wrote.

export interface TlsCertificateInput {
  certificateChainPem: string;
  privateKeyPem: string;
}

export interface ValidationContextInput {
  trustedCaPem: string;
  /** SANs the peer certificate must carry one of (URI for spiffe://, DNS otherwise). */
  matchSans?: readonly string[];
}

export function tlsCertificateSecret(name: string, material: TlsCertificateInput): object {
  return {
    name,
    tlsCertificate: {
      certificateChain: { inlineString: material.certificateChainPem },
      privateKey: { inlineString: material.privateKeyPem },
    },
  };
}

export function validationContextSecret(name: string, material: ValidationContextInput): object {
  const context: Record<string, unknown> = { trustedCa: { inlineString: material.trustedCaPem } };
  if (material.matchSans && material.matchSans.length > 0) {
    context.matchTypedSubjectAltNames = material.matchSans.map((san) => ({
      sanType: san.startsWith('spiffe://') || san.includes('://') ? 'URI' : 'DNS',
      matcher: { exact: san },
    }));
  }
  return { name, validationContext: context };
}
