import { strict as assert } from 'node:assert';
import { camelCaseOf, toApiShape } from '../../src/import/property-names';

describe('import: CloudFormation property names', () => {
  it('lowers the first letter of regular names and whole acronyms, keeping the word after a leading acronym', () => {
    const cases: Array<[string, string]> = [
      ['VirtualNodeName', 'virtualNodeName'], ['Spec', 'spec'], ['BackendDefaults', 'backendDefaults'],
      ['DNS', 'dns'], ['TLS', 'tls'], ['ACM', 'acm'], ['SDS', 'sds'], ['AWSCloudMap', 'awsCloudMap'],
      ['HTTP', 'http'], ['HTTP2', 'http2'], ['GRPC', 'grpc'], ['TCP', 'tcp'], ['HttpRoute', 'httpRoute'],
      ['Http2Route', 'http2Route'], ['GrpcRoute', 'grpcRoute'], ['IpPreference', 'ipPreference'], ['CertificateAuthorityArns', 'certificateAuthorityArns'],
    ];
    for (const [given, expected] of cases) assert.equal(camelCaseOf(given), expected, given);
  });

  it('coerces numbers and booleans given as strings where the API takes them, and leaves text alone', () => {
    const converted = toApiShape({
      PortMapping: { Port: '8080', Protocol: 'http' },
      Weight: '20',
      PerRetryTimeout: { Unit: 'ms', Value: '2000' },
      Attributes: [{ Key: 'version', Value: '2' }],
      TLS: { Enforce: 'true', Ports: ['8080', 9090] },
      Headers: [{ Name: 'x', Invert: 'false', Match: { Range: { Start: '1', End: '5' } } }],
    });
    assert.deepEqual(converted, {
      portMapping: { port: 8080, protocol: 'http' },
      weight: 20,
      perRetryTimeout: { unit: 'ms', value: 2000 },
      attributes: [{ key: 'version', value: '2' }],
      tls: { enforce: true, ports: [8080, 9090] },
      headers: [{ name: 'x', invert: false, match: { range: { start: 1, end: 5 } } }],
    });
  });

  it('leaves a value that is not a number as it is, for validation to name', () => {
    assert.deepEqual(toApiShape({ Port: 'eighty' }), { port: 'eighty' });
  });
});
