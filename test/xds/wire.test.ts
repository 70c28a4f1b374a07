import { strict as assert } from 'node:assert';
import { messageType } from '../../src/xds/protos';
import { decodeDeltaRequest, decodeSotwRequest, RequestError, sotwBody, sotwParts } from '../../src/xds/wire';

const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';

/** A DiscoveryRequest as Envoy sends it, encoded by protobufjs (an independent encoder of ours). */
function encodeRequest(fields: object, message = 'DiscoveryRequest'): Buffer {
  const Request = messageType(`envoy.service.discovery.v3.${message}`);
  return Buffer.from(Request.encode(Request.fromObject(fields)).finish());
}

/** Envoy's node: besides id and cluster, a list of every extension it was built with. */
const ENVOY_NODE = {
  id: 'mesh/demo/virtualNode/front',
  cluster: 'front',
  userAgentName: 'envoy',
  userAgentBuildVersion: { version: { majorNumber: 1, minorNumber: 31, patch: 2 } },
  metadata: { fields: { zone: { stringValue: 'a' }, weights: { listValue: { values: [{ numberValue: 1 }, { boolValue: true }] } } } },
  extensions: Array.from({ length: 50 }, (_, i) => ({ name: `envoy.filters.http.f${i}`, category: 'envoy.filters.http' })),
  clientFeatures: ['envoy.lb.does_not_support_overprovisioning'],
};

describe('xds/wire', () => {
  it('reads every field of a DiscoveryRequest, the node and the error detail included', () => {
    const bytes = encodeRequest({
      versionInfo: 'v1',
      node: ENVOY_NODE,
      resourceNames: ['b', 'a', 'b'],
      typeUrl: CDS,
      responseNonce: 'n7',
      errorDetail: { code: 3, message: 'cluster x: bad' },
      resourceLocators: [{ name: 'xdstp://ignored' }],
    });
    assert.deepEqual(decodeSotwRequest(bytes), {
      versionInfo: 'v1',
      node: { id: 'mesh/demo/virtualNode/front', cluster: 'front', userAgentName: 'envoy', metadata: { zone: 'a', weights: [1, true] } },
      resourceNames: ['b', 'a', 'b'],
      typeUrl: CDS,
      responseNonce: 'n7',
      errorDetail: { code: 3, message: 'cluster x: bad' },
    });
  });

  it('steps over the node when asked not to decode it, and reads the fields around it', () => {
    // The node sits between version_info and resource_names on the wire (field order).
    const bytes = encodeRequest({ versionInfo: 'v2', node: ENVOY_NODE, resourceNames: ['a'], typeUrl: CDS, responseNonce: 'n8' });
    const request = decodeSotwRequest(bytes, { node: false });
    assert.deepEqual(request, { versionInfo: 'v2', resourceNames: ['a'], typeUrl: CDS, responseNonce: 'n8' });
  });

  it('gives empty fields for an empty request (a first request may carry nothing but the node)', () => {
    assert.deepEqual(decodeSotwRequest(Buffer.alloc(0)), { versionInfo: '', resourceNames: [], typeUrl: '', responseNonce: '' });
  });

  it('refuses truncated bytes and absurd sizes with a RequestError naming the message', () => {
    // Cut inside the node (the last field here); a cut string is clamped by protobufjs's reader.
    const whole = encodeRequest({ versionInfo: 'v1', node: ENVOY_NODE });
    for (const node of [true, false]) {
      assert.throws(() => decodeSotwRequest(whole.subarray(0, whole.length - 40), { node }), (err: unknown) =>
        err instanceof RequestError && /^request is not a valid DiscoveryRequest: /.test(err.message));
    }
    assert.throws(() => decodeSotwRequest(encodeRequest({ typeUrl: `type.googleapis.com/${'x'.repeat(600)}` })), /type_url is 620 characters long/);
    assert.throws(() => decodeSotwRequest(encodeRequest({ resourceNames: ['n'.repeat(5000)] })), /resource_names has a name of 5000 characters/);
  });

  it('reads every field of a DeltaDiscoveryRequest, initial versions included, and steps over the node when asked', () => {
    const bytes = encodeRequest({
      node: ENVOY_NODE,
      typeUrl: CDS,
      resourceNamesSubscribe: ['a', 'b'],
      resourceNamesUnsubscribe: ['c'],
      initialResourceVersions: { a: 'v1', ['__proto__']: 'v2' },
      responseNonce: 'n3',
      errorDetail: { code: 13, message: 'nope' },
    }, 'DeltaDiscoveryRequest');
    const expected = {
      typeUrl: CDS,
      resourceNamesSubscribe: ['a', 'b'],
      resourceNamesUnsubscribe: ['c'],
      initialResourceVersions: Object.defineProperty({ a: 'v1' }, '__proto__', { value: 'v2', enumerable: true, writable: true, configurable: true }),
      responseNonce: 'n3',
      errorDetail: { code: 13, message: 'nope' },
    };
    const withNode = decodeDeltaRequest(bytes);
    assert.equal(withNode.node?.id, 'mesh/demo/virtualNode/front');
    assert.deepEqual({ ...withNode, node: undefined }, { ...expected, node: undefined });
    assert.deepEqual(decodeDeltaRequest(bytes, { node: false }), expected);
    assert.equal(Object.getPrototypeOf(withNode.initialResourceVersions), Object.prototype, 'a name is never a prototype');
    assert.throws(() => decodeDeltaRequest(bytes.subarray(0, 100)), (err: unknown) =>
      err instanceof RequestError && /^request is not a valid DeltaDiscoveryRequest: /.test(err.message));
  });

  it('builds a DiscoveryResponse from parts (the nonce as a trailing field), joined the same as sotwBody', () => {
    const Response = messageType('envoy.service.discovery.v3.DiscoveryResponse');
    const parts = sotwParts('v1', CDS, [], Buffer.from([0x2a, 1, 0x6e]));
    assert.deepEqual(Response.toObject(Response.decode(parts.join())), { versionInfo: 'v1', typeUrl: CDS, nonce: 'n' });
    assert.ok(sotwBody('v1', CDS, []).equals(sotwParts('v1', CDS, []).join()));
  });
});
