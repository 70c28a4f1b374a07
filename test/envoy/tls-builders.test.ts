import { strict as assert } from 'node:assert';
import { commonTlsContext, sanMatchersFor, sanTypeOf, sdsSecretNamesIn, upstreamTlsContext, type PeerValidation } from '../../src/envoy/tls';
import type { ProtoObject } from '../../src/envoy/bootstrap';
import { validateMessage } from '../../src/xds/pgv';
import { messageType } from '../../src/xds/protos';

const sds: ProtoObject = { ads: {}, resourceApiVersion: 'V3' };
const bundle = { kind: 'sds', secretName: 'ROOTCA', provision: { kind: 'ca-bundle' } } as const;

describe('envoy/tls builders', () => {
  const sanRows: [string, string][] = [
    ['spiffe://meshd.local/mesh/m/virtualNode/a', 'URI'],
    ['https://example.com/x', 'URI'],
    ['a.m.local', 'DNS'],
    ['10.0.0.1', 'IP_ADDRESS'],
    ['::1', 'IP_ADDRESS'],
  ];
  for (const [name, type] of sanRows) it(`SAN ${name} is of type ${type}`, () => assert.equal(sanTypeOf(name), type));

  it('turns a wildcard DNS SAN into a suffix match and drops duplicates', () => {
    assert.deepEqual(sanMatchersFor(['*.apps.local', 'a.apps.local', 'a.apps.local']), [
      { sanType: 'DNS', match: { suffix: '.apps.local' } },
      { sanType: 'DNS', match: { exact: 'a.apps.local' } },
    ]);
  });

  const validationRows: { name: string; validation: PeerValidation; keys: string[] }[] = [
    { name: 'SDS trust without SANs: a validation SDS config', validation: { trust: bundle, sans: [] }, keys: ['validationContextSdsSecretConfig'] },
    { name: 'SDS trust with SANs: a combined validation context', validation: { trust: bundle, sans: sanMatchersFor(['a.m.local']) }, keys: ['combinedValidationContext'] },
    { name: 'file trust: an inline validation context', validation: { trust: { kind: 'file', certificateChain: '/ca.pem' }, sans: sanMatchersFor(['a.m.local']) }, keys: ['validationContext'] },
  ];
  for (const row of validationRows) {
    it(row.name, () => {
      const context = commonTlsContext({ validation: row.validation }, sds);
      assert.deepEqual(Object.keys(context), row.keys);
      assert.deepEqual(validateMessage(messageType('envoy.extensions.transport_sockets.tls.v3.CommonTlsContext'), context), []);
    });
  }

  it('builds an UpstreamTlsContext with SNI, an SDS certificate and trust, and lists its SDS names', () => {
    const context = upstreamTlsContext({
      sni: 'b.m.local',
      certificate: { kind: 'sds', secretName: 'default', provision: { kind: 'endpoint-certificate' }, issuedByMeshCa: true },
      validation: { trust: bundle, sans: sanMatchersFor(['spiffe://meshd.local/x']) },
    }, sds);
    assert.equal(context.sni, 'b.m.local');
    const { '@type': _type, ...message } = context;
    assert.deepEqual(validateMessage(messageType('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext'), message), []);
    assert.deepEqual([...sdsSecretNamesIn(context)].sort(), ['ROOTCA', 'default']);
  });
});
