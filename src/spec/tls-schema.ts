// TLS blocks of App Mesh specs: listener TLS termination (virtual nodes and gateways) and client
// policies (TLS origination towards backends). Semantics: reference/003 (TLS) and 001 (mTLS).
import { z } from 'zod';
import { exactlyOneOf, isWildcardSan, port, subjectAlternativeNames } from './common-schema';

/** `file` certificate: paths on the proxy's file system. */
export const fileCertificate = z.strictObject({
  certificateChain: z.string().min(1).max(255),
  privateKey: z.string().min(1).max(255),
});

/** `sds` certificate or trust: a secret name served by meshd's SDS. */
export const sdsSecret = z.strictObject({ secretName: z.string().min(1) });

// The model types both ARNs only as `Arn` (a string); App Mesh refuses anything but an ACM
// certificate ARN and an ACM Private CA ARN there. Partitions as in node ids: aws, aws-cn, aws-us-gov...
const acmCertificateArn = /^arn:aws[a-z-]*:acm:[a-z0-9-]*:[0-9]*:certificate\/\S+$/;
const acmPcaArn = /^arn:aws[a-z-]*:acm-pca:[a-z0-9-]*:[0-9]*:certificate-authority\/\S+$/;

/** `acm` certificate: meshd has no ACM, it issues the endpoint's certificate from its own CA. */
export const acmCertificate = z.strictObject({
  certificateArn: z.string().regex(acmCertificateArn, 'must be an ACM certificate ARN (arn:<partition>:acm:<region>:<account>:certificate/<id>)'),
});

/** Listener `tls.mode`. */
export const tlsMode = z.enum(['STRICT', 'PERMISSIVE', 'DISABLED']);
export type TlsMode = z.infer<typeof tlsMode>;

/** Trust for validating the peer: `file` CA chain, `sds` bundle name, or `acm` CAs (meshd's bundle). */
export const trust = exactlyOneOf({
  file: z.strictObject({ certificateChain: z.string().min(1).max(255) }).optional(),
  sds: sdsSecret.optional(),
  acm: z.strictObject({
    certificateAuthorityArns: z.array(
      z.string().regex(acmPcaArn, 'must be an ACM Private CA ARN (arn:<partition>:acm-pca:<region>:<account>:certificate-authority/<id>)'),
    ).min(1).max(3), // CertificateAuthorityArns
  }).optional(),
});
export type Trust = z.infer<typeof trust>;

/** `validation`: trust plus an optional SAN list. */
export const validation = z.strictObject({
  trust,
  subjectAlternativeNames: subjectAlternativeNames.optional(),
});
export type Validation = z.infer<typeof validation>;

/** Listener `tls`: termination, with `validation` making it mutual TLS. */
export const listenerTls = z.strictObject({
  mode: tlsMode,
  certificate: exactlyOneOf({
    file: fileCertificate.optional(),
    sds: sdsSecret.optional(),
    acm: acmCertificate.optional(),
  }),
  validation: validation.optional(),
});
export type ListenerTls = z.infer<typeof listenerTls>;

/**
 * Client policy `tls`. `enforce` defaults to true when the block is present (as in App Mesh);
 * an enforcing policy may not trust wildcard SANs (003, "Subject alternative names").
 */
export const clientPolicyTls = z.strictObject({
  enforce: z.boolean().optional(),
  ports: z.array(port).optional(),
  certificate: exactlyOneOf({
    file: fileCertificate.optional(),
    sds: sdsSecret.optional(),
  }).optional(),
  validation,
}).superRefine((tls, ctx) => {
  if (tls.enforce === false) return;
  const sans = tls.validation.subjectAlternativeNames?.match.exact ?? [];
  sans.forEach((san, index) => {
    if (isWildcardSan(san)) {
      ctx.addIssue({
        code: 'custom',
        path: ['validation', 'subjectAlternativeNames', 'match', 'exact', index],
        message: `wildcard SAN "${san}" is allowed only when the client policy does not enforce TLS (enforce: false)`,
      });
    }
  });
});
export type ClientPolicyTls = z.infer<typeof clientPolicyTls>;

/** `clientPolicy`: today only `tls`. */
export const clientPolicy = z.strictObject({ tls: clientPolicyTls.optional() });
export type ClientPolicy = z.infer<typeof clientPolicy>;

/** `backendDefaults`: the client policy for every backend without its own. */
export const backendDefaults = z.strictObject({ clientPolicy: clientPolicy.optional() });
