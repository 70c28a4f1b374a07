import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { buildEnvoyBootstrap, sdsConfigSource } from '../../src/envoy/bootstrap';
import { tlsCertificateSecret, validationContextSecret } from '../../src/envoy/secret';
import { loadMesh } from '../../src/model/load-mesh';
import { formatErrors } from '../../src/spec/errors';
import { translateEndpoint } from '../../src/translate';
import { encodeMessage, shareEncoding } from '../../src/xds/encode';
import { messageType } from '../../src/xds/protos';
import { messageNameOf } from '../../src/xds/type-urls';

/** protobufjs's encoding: the reference. */
function reference(type: protobuf.Type, message: object): Buffer {
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

/** Fails unless encode.ts writes exactly protobufjs's bytes for `message` as `typeName`. */
function assertSameBytes(type: protobuf.Type, message: object, label: string = type.fullName): void {
  const expected = reference(type, message);
  const actual = encodeMessage(type, message);
  assert.equal(actual.toString('hex'), expected.toString('hex'), label);
}

/** Both fail with the same error message. */
function assertSameError(type: protobuf.Type, message: object): void {
  let expected: Error | undefined;
  try {
    reference(type, message);
  } catch (err) {
    expected = err as Error;
  }
  assert.ok(expected, 'protobufjs accepted it');
  assert.throws(() => encodeMessage(type, message), { message: expected.message });
}

const repo = path.join(__dirname, '..', '..', '..');
const credentialFor = (id: string): { header: string; value: string } => ({ header: 'x-meshd-node-token', value: `token-${id}` });

// A message with every scalar type, every way of repeating and map keys of every kind: Envoy's
// protos use only some of them, the encoder must take all of them.
const TEST_PROTO = `
syntax = "proto3";
package enc.test;
import "google/protobuf/any.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/wrappers.proto";
enum Colour { COLOUR_UNSET = 0; RED = 1; GREEN = 2; NEGATIVE = -3; }
message Inner { string s = 1; int32 i = 2; Inner next = 3; }
message All {
  double d = 1; float f = 2; int32 i32 = 3; uint32 u32 = 4; sint32 s32 = 5; fixed32 f32 = 6; sfixed32 sf32 = 7;
  int64 i64 = 8; uint64 u64 = 9; sint64 s64 = 10; fixed64 f64 = 11; sfixed64 sf64 = 12; bool b = 13; string s = 14; bytes by = 15;
  Colour colour = 16; Inner inner = 17;
  repeated int32 packed_i32 = 20; repeated sint64 packed_s64 = 21; repeated double packed_d = 22; repeated Colour packed_colours = 23;
  repeated bool packed_b = 24; repeated fixed64 packed_f64 = 25;
  repeated int32 unpacked_i32 = 26 [packed = false]; repeated string strings = 27; repeated bytes blobs = 28; repeated Inner inners = 29;
  map<string, string> by_string = 30; map<int32, Inner> by_int32 = 31; map<int64, string> by_int64 = 32; map<bool, int32> by_bool = 33;
  map<uint32, Colour> colours = 34; map<sint32, bytes> by_sint32 = 35; map<fixed64, double> by_fixed64 = 36; map<string, Inner> inner_by_name = 37;
  oneof choice { string choice_s = 40; Inner choice_inner = 41; int64 choice_i64 = 42; }
  google.protobuf.Any any = 50; repeated google.protobuf.Any anys = 51; google.protobuf.Struct struct = 52;
  google.protobuf.Duration duration = 53; google.protobuf.UInt32Value wrapped = 54; google.protobuf.BoolValue flag = 55;
}
`;

describe('xds/encode', () => {
  let All: protobuf.Type;
  before(() => {
    // The google/protobuf types as protobufjs ships them (parse does not follow imports).
    const root = new protobuf.Root();
    for (const file of ['any', 'struct', 'duration', 'wrappers']) root.addJSON(protobuf.common.get(`google/protobuf/${file}.proto`)!.nested!);
    protobuf.parse(TEST_PROTO, root, { keepCase: false });
    root.resolveAll();
    All = root.lookupType('enc.test.All');
  });

  it('writes every resource of the demo meshes and the fixtures as protobufjs does', async () => {
    let compared = 0;
    const meshes: [string, { trustDomain?: string }][] = [
      ['examples/colorapp', {}],
      ['examples/proxyless', {}],
      ['test/fixtures/spire-mesh', { trustDomain: 'howto-k8s-mtls-sds-based.aws' }],
    ];
    for (const [dir, options] of meshes) {
      const loaded = await loadMesh(path.join(repo, dir), options);
      if (!loaded.ok) throw new Error(formatErrors(loaded.errors));
      for (const id of Object.keys(loaded.model.endpoints)) {
        for (const options of [{ credentialFor }, { credentialFor: () => undefined }]) {
          for (const [typeUrl, resources] of Object.entries(translateEndpoint(loaded.model, id, options))) {
            const type = messageType(messageNameOf(typeUrl));
            for (const resource of resources) {
              assertSameBytes(type, resource.message, `${dir} ${id} ${resource.name}`);
              compared++;
            }
          }
        }
      }
    }
    assert.ok(compared > 50, `only ${compared} resources compared`);
  });

  it('writes secrets and a bootstrap as protobufjs does', () => {
    const Secret = messageType('envoy.extensions.transport_sockets.tls.v3.Secret');
    assertSameBytes(Secret, tlsCertificateSecret('default', { certificateChainPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', privateKeyPem: 'key' }));
    assertSameBytes(Secret, validationContextSecret('ROOTCA', { trustedCaPem: 'bundle', matchSans: ['spiffe://td/a', 'b.local'] }));
    const bootstrap = buildEnvoyBootstrap({ nodeId: 'mesh/m/virtualNode/a', credential: credentialFor('a'), xdsAddresses: ['127.0.0.1:15000', '[::1]:15001'], sdsSocketPath: '/tmp/sds.sock', nodeMetadata: { zone: 'a', n: 1, on: true } });
    assertSameBytes(messageType('envoy.config.bootstrap.v3.Bootstrap'), bootstrap);
  });

  it('writes fields set to their defaults (protobufjs keeps them) and leaves null or undefined ones out', () => {
    assertSameBytes(All, { d: 0, f: 0, i32: 0, u32: 0, s32: 0, f32: 0, sf32: 0, i64: 0, u64: 0, s64: 0, f64: 0, sf64: 0, b: false, s: '', by: new Uint8Array(0), colour: 'COLOUR_UNSET', inner: {} });
    assertSameBytes(All, { d: null, s: undefined, inner: null, packedI32: null, byString: null, colour: null });
    assertSameBytes(All, {});
  });

  it('converts scalars as fromObject does: strings to numbers, numbers to strings, truthiness to bool', () => {
    assertSameBytes(All, { d: '1.5', f: 0.1, i32: '42', u32: -1, s32: -7, f32: 4294967295, sf32: -2, b: 'yes', s: 12 });
    assertSameBytes(All, { d: NaN, f: Infinity, i32: 3.9, u32: 2 ** 32 + 5, s32: 2 ** 31 - 1, sf32: -(2 ** 31) });
    assertSameBytes(All, { d: -0, f: -Infinity, i32: -1, s: 'é€😀', strings: ['x'.repeat(39), 'y'.repeat(40), 'z'.repeat(300) + 'é'] });
  });

  it('writes strings with lone surrogates as protobufjs does on either side of its 40-unit split', () => {
    assertSameBytes(All, { s: 'a\ud800b', strings: ['\udc00', `${'x'.repeat(45)}\ud800`] });
  });

  it('writes 64-bit integers from numbers, strings and Long-likes, signed and unsigned', () => {
    assertSameBytes(All, { i64: 1, u64: '18446744073709551615', s64: -1, f64: '1234567890123', sf64: -5 });
    assertSameBytes(All, { i64: -(2 ** 53), u64: 2 ** 40, s64: '-9223372036854775808', f64: { low: 1, high: 2 }, sf64: { low: -1, high: -1, unsigned: false } });
    assertSameBytes(All, { i64: '9223372036854775807', s64: 2 ** 31, choiceI64: '-2' });
  });

  it('writes bytes from base64 strings, byte arrays and arrays of numbers', () => {
    assertSameBytes(All, { by: 'AAEC/w==', blobs: ['', 'aGVsbG8=', Buffer.from([1, 2, 3]), [4, 5, 300]] });
    assertSameBytes(All, { by: Buffer.alloc(200, 7) });
  });

  it('takes enums by name or number, passes unknown numbers through, drops unknown names (repeated: the default)', () => {
    assertSameBytes(All, { colour: 'GREEN', packedColours: ['RED', 2, 'NEGATIVE', 'PURPLE', 17, -9] });
    assertSameBytes(All, { colour: 99 });
    assertSameBytes(All, { colour: 'PURPLE' });
    assertSameBytes(All, { colour: 'NEGATIVE' });
    assertSameBytes(All, { colours: { 1: 'RED', 2: 'PURPLE', 3: 5 } });
  });

  it('packs repeated numbers, and writes unpacked and repeated messages element by element', () => {
    assertSameBytes(All, {
      packedI32: [1, -1, 300, 0], packedS64: [-1, '5', 2 ** 40], packedD: [0.5, -2], packedB: [true, 0, 'x'], packedF64: [1, '2'],
      unpackedI32: [7, -7, 128], strings: ['a', '', 'b'], inners: [{ s: 'x' }, {}, { next: { next: { i: -1 } } }],
    });
    assertSameBytes(All, { packedI32: [], strings: [], inners: [] });
  });

  it('writes maps in key order of the object, with keys of every scalar kind', () => {
    assertSameBytes(All, {
      byString: { b: '1', a: '', '': 'empty key' },
      byInt32: { '-1': { s: 'neg' }, 7: {}, 300: { i: 3 } },
      byInt64: { '-9223372036854775808': 'min', 18: 'x' },
      byBool: { true: 1, false: 2 },
      bySint32: { '-2': 'AQI=', 5: [9], 6: 7 },
      byFixed64: { 1: 0.5, '123456789012': -1 },
      innerByName: { __proto__: { s: 'proto' }, z: { s: 'z' } } as unknown as object,
    });
    assertSameBytes(All, { innerByName: JSON.parse('{"__proto__": {"s": "own"}, "k": {}}') as object });
  });

  it('writes every member of a oneof that is set, as protobufjs does', () => {
    assertSameBytes(All, { choiceS: 'a', choiceInner: { s: 'b' }, choiceI64: 3 });
    assertSameBytes(All, { choiceInner: {} });
  });

  it("writes an Any from '@type' (with or without prefix or a leading dot), from type_url and value, and an unknown '@type' as a plain Any", () => {
    assertSameBytes(All, {
      any: { '@type': 'type.googleapis.com/enc.test.Inner', s: 'held', next: { i: 1 } },
      anys: [
        { '@type': '.enc.test.Inner', s: 'dot' },
        { '@type': 'enc.test.Inner' },
        { '@type': 'type.googleapis.com/google.protobuf.Duration', seconds: 5, nanos: 1 },
        { type_url: 'type.googleapis.com/enc.test.Inner', value: Buffer.from([10, 1, 97]) },
        { '@type': 'type.googleapis.com/no.such.Type', type_url: 'kept', value: [1] },
        {},
      ],
    });
    const Cluster = messageType('envoy.config.cluster.v3.Cluster');
    assertSameBytes(Cluster, {
      name: 'c',
      typedExtensionProtocolOptions: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          explicitHttpConfig: { http2ProtocolOptions: {} },
        },
      },
      transportSocket: { name: 'tls', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', sni: 'a', commonTlsContext: { alpnProtocols: ['h2'] } } },
    });
  });

  it('writes Struct, Duration and wrapper messages as the plain messages they are', () => {
    assertSameBytes(All, {
      struct: { fields: { a: { stringValue: 'x' }, n: { numberValue: 1.5 }, z: { nullValue: 'NULL_VALUE' }, l: { listValue: { values: [{ boolValue: true }, { structValue: { fields: {} } }] } } } },
      duration: { seconds: '315576000000', nanos: 999999999 },
      wrapped: { value: 0 },
      flag: { value: false },
    });
    const Cluster = messageType('envoy.config.cluster.v3.Cluster');
    assertSameBytes(Cluster, { name: 'c', connectTimeout: { seconds: 1 }, perConnectionBufferLimitBytes: { value: 32768 }, metadata: { filterMetadata: { meshd: { fields: { k: { stringValue: 'v' } } } } } });
  });

  it('writes protobufjs message instances (fromObject passes them through) with protobufjs', () => {
    const inner = (All.lookupType('Inner')).fromObject({ s: 'instance', i: 2 });
    assertSameBytes(All, { inner, inners: [inner, { s: 'plain' }] });
    assertSameBytes(All, All.fromObject({ s: 'top', colour: 'RED' }));
  });

  it('fails where fromObject fails, with its message', () => {
    assertSameError(All, { inner: 'text' });
    assertSameError(All, { inners: {} });
    assertSameError(All, { inners: [1] });
    assertSameError(All, { byString: 'text' });
    assertSameError(All, { innerByName: { a: 5 } });
    assertSameError(messageType('envoy.config.cluster.v3.Cluster'), { transportSocket: 'tls' });
  });

  it('encodes a shared message once and reuses it wherever it appears', () => {
    const Cluster = messageType('envoy.config.cluster.v3.Cluster');
    const sds = shareEncoding(sdsConfigSource(credentialFor('a')));
    assert.ok(Object.isFrozen(sds) && Object.isFrozen(sds.apiConfigSource), 'frozen, deeply');
    const tls = (name: string): object => ({
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name, sdsConfig: sds }], validationContextSdsSecretConfig: { name: 'ca', sdsConfig: sds } },
    });
    for (const name of ['a', 'b']) assertSameBytes(Cluster, { name, transportSocket: { name: 'tls', typedConfig: tls(name) } });
    // The same object shared as a whole resource, and as another type.
    const assignment = shareEncoding({ clusterName: 'x', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '10.0.0.1', portValue: 80 } } } }] }] });
    const Assignment = messageType('envoy.config.endpoint.v3.ClusterLoadAssignment');
    assertSameBytes(Assignment, assignment);
    assert.deepEqual(encodeMessage(Assignment, assignment), encodeMessage(Assignment, assignment));
    assertSameBytes(messageType('envoy.config.cluster.v3.Cluster'), assignment);
  });
});
