import { strict as assert } from 'node:assert';
import { canonicalPath, canonicalQuery, ReplayGuard, verifySignature, type SignedRequest } from '../../src/api/sigv4';

// AWS's documented example (IAM ListUsers, "Create a signed AWS API request").
const EXAMPLE: SignedRequest = {
  method: 'GET',
  url: '/?Action=ListUsers&Version=2010-05-08',
  headers: {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    host: 'iam.amazonaws.com',
    'x-amz-date': '20150830T123600Z',
    authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
  },
  body: Buffer.alloc(0),
};
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const AT = Date.UTC(2015, 7, 30, 12, 36, 0);
const options = { region: 'us-east-1', service: 'iam', secretOf: (id: string) => (id === 'AKIDEXAMPLE' ? SECRET : undefined), maxSkewMs: 300_000, now: () => AT };

function withHeader(name: string, value: string | undefined): SignedRequest {
  return { ...EXAMPLE, headers: { ...EXAMPLE.headers, [name]: value } };
}

describe('api/sigv4', () => {
  it("accepts AWS's documented example signature", () => {
    assert.deepEqual(verifySignature(EXAMPLE, options).accessKeyId, 'AKIDEXAMPLE');
  });

  it('refuses each way a request can be wrong, with the name AWS gives it', () => {
    const cases: [SignedRequest, typeof options, string, RegExp][] = [
      [withHeader('authorization', undefined), options, 'MissingAuthenticationTokenException', /Missing Authentication Token/],
      [withHeader('authorization', 'Bearer x'), options, 'IncompleteSignatureException', /AWS4-HMAC-SHA256/],
      [withHeader('authorization', 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request'), options, 'IncompleteSignatureException', /SignedHeaders, Signature/],
      [EXAMPLE, { ...options, secretOf: () => undefined }, 'UnrecognizedClientException', /security token/],
      [EXAMPLE, { ...options, service: 'appmesh' }, 'InvalidSignatureException', /correct service: 'appmesh'/],
      [EXAMPLE, { ...options, region: 'eu-west-1' }, 'InvalidSignatureException', /valid region: 'eu-west-1'/],
      [EXAMPLE, { ...options, now: () => AT + 301_000 }, 'InvalidSignatureException', /Signature expired: 20150830T123600Z is now earlier than/],
      [EXAMPLE, { ...options, now: () => AT - 301_000 }, 'InvalidSignatureException', /is now later than/],
      [withHeader('x-amz-date', '20150830T123601Z'), { ...options, now: () => AT }, 'InvalidSignatureException', /signature we calculated does not match/],
      [{ ...EXAMPLE, url: '/?Action=ListUsers&Version=2010-05-09' }, options, 'InvalidSignatureException', /does not match/],
      [{ ...EXAMPLE, body: Buffer.from('x') }, options, 'InvalidSignatureException', /does not match/],
      [withHeader('x-amz-content-sha256', 'UNSIGNED-PAYLOAD'), options, 'InvalidSignatureException', /x-amz-content-sha256/],
      [withHeader('x-amz-date', '2015-08-30'), options, 'IncompleteSignatureException', /X-Amz-Date/],
    ];
    for (const [request, opts, name, message] of cases) {
      assert.throws(() => verifySignature(request, opts), (err: Error) => {
        assert.equal(err.name, name, `${err.name}: ${err.message}`);
        assert.match(err.message, message);
        assert.ok(!err.message.includes(SECRET));
        return true;
      });
    }
  });

  it('signs the path encoded twice and the query sorted, as non-S3 signers do', () => {
    assert.equal(canonicalPath('/v20190125/meshes/my%20mesh/./x/../virtualNodes'), '/v20190125/meshes/my%2520mesh/virtualNodes');
    assert.equal(canonicalPath('/'), '/');
    assert.equal(canonicalQuery('limit=3&nextToken=a%2Bb&a=2&a=1'), 'a=1&a=2&limit=3&nextToken=a%2Bb');
    assert.equal(canonicalQuery('resourceArn=arn:aws:appmesh:us-east-1:1:mesh/app'), 'resourceArn=arn%3Aaws%3Aappmesh%3Aus-east-1%3A1%3Amesh%2Fapp');
  });

  it('accepts a signature once', () => {
    const guard = new ReplayGuard(300_000);
    guard.check('abc', 1000, 1000);
    guard.check('def', 1000, 1000);
    assert.throws(() => guard.check('abc', 1000, 2000), /already been used/);
    guard.check('abc', 1000, 1000 + 700_000);
  });
});
