import { strict as assert } from 'node:assert';
import { EncodedResource, encodeResource } from '../../src/cache/resource';
import { messageType } from '../../src/xds/protos';
import { TypeUrl } from '../../src/xds/type-urls';
import { lengthDelimitedField, SotwField } from '../../src/xds/wire';

/** The Any as protobufjs encodes it: the reference the hand-written encoding must match. */
function encodeAny(typeUrl: string, value: Uint8Array): Buffer {
  const Any = messageType('google.protobuf.Any');
  return Buffer.from(Any.encode(Any.fromObject({ type_url: typeUrl, value })).finish());
}

describe('cache/resource', () => {
  it('holds the resources field, the Any and the value as the wire encoder writes them, for any length', () => {
    for (const size of [0, 1, 100, 127, 128, 300, 16_383, 16_384, 70_000]) {
      const value = Buffer.alloc(size, 0x5a);
      const resource = new EncodedResource(TypeUrl.Secret, 'default', value, 'v1', []);
      assert.deepEqual(resource.any, encodeAny(TypeUrl.Secret, value), `Any of ${size} bytes`);
      assert.deepEqual(resource.sotwField, lengthDelimitedField(SotwField.resources, encodeAny(TypeUrl.Secret, value)), `field of ${size} bytes`);
      assert.deepEqual(resource.value, value);
    }
  });

  it('decodes back to the message it was encoded from', () => {
    const resource = encodeResource(TypeUrl.Secret, 'ROOTCA', { name: 'ROOTCA', validationContext: { trustedCa: { inlineString: 'bundle' } } });
    const Any = messageType('google.protobuf.Any');
    const any = Any.decode(resource.any) as unknown as { type_url: string; value: Uint8Array };
    assert.equal(any.type_url, TypeUrl.Secret);
    const Secret = messageType('envoy.extensions.transport_sockets.tls.v3.Secret');
    assert.deepEqual(Secret.toObject(Secret.decode(resource.value)), { name: 'ROOTCA', validationContext: { trustedCa: { inlineString: 'bundle' } } });
  });
});
