// ACM ARNs in TLS blocks (tls-schema), through the real parser: App Mesh takes only an ACM
// certificate ARN as a listener certificate and only ACM Private CA ARNs as trust.
import { strict as assert } from 'node:assert';
import { formatErrors } from '../../src/spec/errors';
import { parseSpecText } from '../../src/spec/parse';

const certificateRule = 'must be an ACM certificate ARN (arn:<partition>:acm:<region>:<account>:certificate/<id>)';
const authorityRule = 'must be an ACM Private CA ARN (arn:<partition>:acm-pca:<region>:<account>:certificate-authority/<id>)';

function nodeWithTls(certificateArn: string, authorityArns: string[]): string {
  return `kind: VirtualNode
meshName: m
virtualNodeName: b
spec:
  listeners:
    - portMapping: { port: 8080, protocol: http }
      tls:
        mode: STRICT
        certificate: { acm: { certificateArn: ${JSON.stringify(certificateArn)} } }
        validation: { trust: { acm: { certificateAuthorityArns: ${JSON.stringify(authorityArns)} } } }
`;
}

function errorsOf(text: string): string[] {
  const parsed = parseSpecText('tls.yaml', text);
  return parsed.errors.length ? formatErrors(parsed.errors).split('\n') : [];
}

const certificate = 'arn:aws:acm:us-west-2:111122223333:certificate/0f1e2d3c';
const authority = 'arn:aws:acm-pca:us-west-2:111122223333:certificate-authority/meshd';

describe('spec/tls-schema: ACM ARNs', () => {
  it('accepts an ACM certificate ARN and ACM Private CA ARNs, in other partitions too', () => {
    assert.deepEqual(errorsOf(nodeWithTls(certificate, [authority])), []);
    assert.deepEqual(errorsOf(nodeWithTls('arn:aws-cn:acm:cn-north-1:111122223333:certificate/x', ['arn:aws-us-gov:acm-pca:us-gov-west-1:111122223333:certificate-authority/y'])), []);
  });

  it('refuses a certificateArn that is not an ARN, or the ARN of something else', () => {
    assert.deepEqual(errorsOf(nodeWithTls('not-an-arn', [authority])), [
      `tls.yaml: VirtualNode b: spec.listeners[0].tls.certificate.acm.certificateArn: ${certificateRule}`,
    ]);
    assert.deepEqual(errorsOf(nodeWithTls(authority, [authority])), [
      `tls.yaml: VirtualNode b: spec.listeners[0].tls.certificate.acm.certificateArn: ${certificateRule}`,
    ]);
  });

  it('refuses certificateAuthorityArns that are not ACM Private CA ARNs, naming each', () => {
    assert.deepEqual(errorsOf(nodeWithTls(certificate, [authority, 'not-an-arn', certificate])), [
      `tls.yaml: VirtualNode b: spec.listeners[0].tls.validation.trust.acm.certificateAuthorityArns[1]: ${authorityRule}`,
      `tls.yaml: VirtualNode b: spec.listeners[0].tls.validation.trust.acm.certificateAuthorityArns[2]: ${authorityRule}`,
    ]);
  });
});
