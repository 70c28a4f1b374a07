// A small proto, parsed with protobufjs against the real validate.proto, that carries the PGV
// rules Envoy's loaded protos do not happen to use (string formats, every numeric kind, maps with
// key rules, timestamps, Any in/not_in, message.skip, validate.disabled, proto3 optional).
// Scalars with rules are proto3 `optional`, so an empty Everything is valid and each table row
// sets exactly the field it breaks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { PROTO_INCLUDE_DIRS } from '../../../src/xds/protos';

const SOURCE = `
syntax = "proto3";
package test.pgv;
import "validate/validate.proto";
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

enum Color { COLOR_UNSPECIFIED = 0; RED = 1; GREEN = 2; BLUE = 3; }

message Inner { string id = 1 [(validate.rules).string.min_len = 1]; }

message Disabled {
  option (validate.disabled) = true;
  string id = 1 [(validate.rules).string.min_len = 1];
}

message Tree {
  string name = 1 [(validate.rules).string.min_len = 1];
  repeated Tree children = 2;
}

message Requirements {
  Inner inner = 1 [(validate.rules).message.required = true];
  google.protobuf.Duration timeout = 2 [(validate.rules).duration.required = true];
  google.protobuf.Any config = 3 [(validate.rules).any.required = true];
  google.protobuf.UInt32Value weight = 4 [(validate.rules).message.required = true];
  oneof choice {
    option (validate.required) = true;
    string by_name = 5;
    uint32 by_number = 6 [(validate.rules).uint32.gt = 0];
  }
  map<string, string> pairs = 7 [(validate.rules).map.min_pairs = 1];
}

message Everything {
  optional string exact_len = 1 [(validate.rules).string.len = 3];
  optional string bounded = 2 [(validate.rules).string = {min_len: 2, max_len: 4}];
  optional string byte_bounded = 3 [(validate.rules).string = {min_bytes: 2, max_bytes: 3}];
  optional string len_bytes = 4 [(validate.rules).string.len_bytes = 2];
  optional string affixes = 5 [(validate.rules).string = {prefix: "pre", suffix: "suf", contains: "mid"}];
  optional string not_contains = 6 [(validate.rules).string.not_contains = "bad"];
  optional string constant = 7 [(validate.rules).string.const = "fixed"];
  optional string not_in = 8 [(validate.rules).string = {not_in: ["a", "b"]}];
  optional string pattern = 9 [(validate.rules).string.pattern = "^[a-z]+(-[a-z]+)*$"];
  optional string email = 10 [(validate.rules).string.email = true];
  optional string hostname = 11 [(validate.rules).string.hostname = true];
  optional string ip = 12 [(validate.rules).string.ip = true];
  optional string ipv4 = 13 [(validate.rules).string.ipv4 = true];
  optional string ipv6 = 14 [(validate.rules).string.ipv6 = true];
  optional string uri = 15 [(validate.rules).string.uri = true];
  optional string uri_ref = 16 [(validate.rules).string.uri_ref = true];
  optional string address = 17 [(validate.rules).string.address = true];
  optional string uuid = 18 [(validate.rules).string.uuid = true];
  optional string header_name = 19 [(validate.rules).string.well_known_regex = HTTP_HEADER_NAME];
  optional string header_value = 20 [(validate.rules).string.well_known_regex = HTTP_HEADER_VALUE];
  string ignore_empty = 21 [(validate.rules).string = {min_len: 3, ignore_empty: true}];
  optional int32 int32_const = 22 [(validate.rules).int32.const = 7];
  optional int64 int64_in = 23 [(validate.rules).int64 = {in: [1, 2, 3]}];
  optional sint32 sint32_not_in = 24 [(validate.rules).sint32 = {not_in: [-1]}];
  optional sint64 sint64_gt = 25 [(validate.rules).sint64.gt = -5];
  optional fixed32 fixed32_lt = 26 [(validate.rules).fixed32.lt = 10];
  optional fixed64 fixed64_gte = 27 [(validate.rules).fixed64.gte = 10];
  optional sfixed32 sfixed32_range = 28 [(validate.rules).sfixed32 = {gte: -10, lt: 10}];
  optional sfixed64 sfixed64_outside = 29 [(validate.rules).sfixed64 = {lt: -10, gt: 10}];
  optional uint64 uint64_max = 30 [(validate.rules).uint64.lte = 9007199254740992];
  optional float float_gt = 31 [(validate.rules).float.gt = 0.5];
  optional double double_lte = 32 [(validate.rules).double.lte = 1.5];
  uint32 uint32_ignore_empty = 33 [(validate.rules).uint32 = {gte: 10, ignore_empty: true}];
  optional Color color_in = 34 [(validate.rules).enum = {in: [1, 2]}];
  optional Color color_const = 35 [(validate.rules).enum.const = 3];
  optional Color color_defined = 36 [(validate.rules).enum.defined_only = true];
  optional bytes bytes_len = 37 [(validate.rules).bytes = {min_len: 2, max_len: 3}];
  optional bytes bytes_prefix = 38 [(validate.rules).bytes.prefix = "ab"];
  optional bytes bytes_ipv4 = 39 [(validate.rules).bytes.ipv4 = true];
  optional bool bool_const = 40 [(validate.rules).bool.const = true];
  repeated string tags = 41 [(validate.rules).repeated = {max_items: 2, unique: true, items: {string: {prefix: "t"}}}];
  repeated Inner inners = 42;
  repeated Inner skipped_items = 43 [(validate.rules).repeated.items.message.skip = true];
  map<int32, Inner> by_number = 44 [(validate.rules).map = {max_pairs: 2, no_sparse: true, keys: {int32: {gt: 0}}}];
  map<string, string> labels = 45 [(validate.rules).map = {keys: {string: {min_len: 1}}, values: {string: {max_len: 3}}}];
  google.protobuf.Timestamp window = 46 [(validate.rules).timestamp = {gt: {seconds: 1000}, lt: {seconds: 2000}}];
  google.protobuf.Timestamp past = 47 [(validate.rules).timestamp.lt_now = true];
  google.protobuf.Duration duration_const = 48 [(validate.rules).duration.const = {seconds: 1, nanos: 500000000}];
  google.protobuf.Duration duration_in = 49 [(validate.rules).duration = {in {seconds: 1} in {seconds: 2}}];
  google.protobuf.Any any_in = 50 [(validate.rules).any = {in: ["type.googleapis.com/test.pgv.Inner"]}];
  google.protobuf.Any any_not_in = 51 [(validate.rules).any = {not_in: ["type.googleapis.com/test.pgv.Disabled"]}];
  Inner skipped = 52 [(validate.rules).message.skip = true];
  Inner nested = 53;
  Disabled disabled = 54;
  google.protobuf.Int64Value wrapped_int64 = 55 [(validate.rules).int64.gt = 0];
  google.protobuf.StringValue wrapped_string = 56 [(validate.rules).string.min_len = 2];
  map<string, int64> limits = 57 [(validate.rules).map = {min_pairs: 0, max_pairs: 1, values: {int64: {lt: 100}}}];
  Tree tree = 58;
  map<string, Inner> named = 59 [(validate.rules).map.min_pairs = 0];
}
`;

/** A root holding test.pgv.* (and validate.proto, the well-known types) loaded like Envoy's. */
export function loadRulesRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (origin: string, target: string): string => {
    for (const dir of PROTO_INCLUDE_DIRS) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  const parsed = protobuf.parse(SOURCE, root, { keepCase: false });
  root.loadSync(parsed.imports ?? [], { keepCase: false });
  root.resolveAll();
  return root;
}

/** Long, as protobufjs ships it (its static factories are not in the typings). */
const Long = protobuf.util.Long as unknown as { fromString(text: string, unsigned: boolean): protobuf.Long; fromNumber(value: number, unsigned: boolean): protobuf.Long };

/** One row: a test.pgv.Everything in fromObject form and exactly the violations it has. */
export interface RuleCase {
  name: string;
  value: Record<string, unknown>;
  expected: { path: string; message: string }[];
  /** The defect cannot survive encoding (e.g. a null map value), so only the plain form is checked. */
  plainOnly?: boolean;
}

const v = (path: string, message: string): { path: string; message: string } => ({ path, message });
const INNER_URL = 'type.googleapis.com/test.pgv.Inner';

export const RULE_CASES: readonly RuleCase[] = [
  { name: 'string len counts code points', value: { exactLen: '\u{1F600}ab' }, expected: [] },
  { name: 'string len', value: { exactLen: 'ab' }, expected: [v('exact_len', 'value length must be 3 characters')] },
  { name: 'string min_len', value: { bounded: 'a' }, expected: [v('bounded', 'value length must be at least 2 characters')] },
  { name: 'string max_len', value: { bounded: 'abcde' }, expected: [v('bounded', 'value length must be at most 4 characters')] },
  { name: 'string min_bytes', value: { byteBounded: 'a' }, expected: [v('byte_bounded', 'value length must be at least 2 bytes')] },
  { name: 'string max_bytes counts UTF-8', value: { byteBounded: '\u00e9\u00e9' }, expected: [v('byte_bounded', 'value length must be at most 3 bytes')] },
  { name: 'string len_bytes', value: { lenBytes: 'abc' }, expected: [v('len_bytes', 'value length must be 2 bytes')] },
  {
    name: 'string prefix and suffix', value: { affixes: 'x-mid-y' },
    expected: [v('affixes', 'value does not have prefix "pre"'), v('affixes', 'value does not have suffix "suf"')],
  },
  { name: 'string contains', value: { affixes: 'pre-suf' }, expected: [v('affixes', 'value does not contain substring "mid"')] },
  { name: 'string not_contains', value: { notContains: 'so bad' }, expected: [v('not_contains', 'value contains substring "bad"')] },
  { name: 'string const', value: { constant: 'other' }, expected: [v('constant', 'value must equal "fixed"')] },
  { name: 'string not_in', value: { notIn: 'a' }, expected: [v('not_in', 'value must not be in list ["a", "b"]')] },
  { name: 'string pattern (full match)', value: { pattern: 'Bad_Name' }, expected: [v('pattern', 'value does not match regex pattern "^[a-z]+(-[a-z]+)*$"')] },
  { name: 'string pattern passes', value: { pattern: 'good-name' }, expected: [] },
  { name: 'string email', value: { email: 'nobody' }, expected: [v('email', 'value must be a valid email address')] },
  { name: 'string hostname', value: { hostname: 'bad_host.example' }, expected: [v('hostname', 'value must be a valid hostname')] },
  { name: 'string ip', value: { ip: '300.1.1.1' }, expected: [v('ip', 'value must be a valid IP address')] },
  { name: 'string ipv4', value: { ipv4: '::1' }, expected: [v('ipv4', 'value must be a valid IPv4 address')] },
  { name: 'string ipv6', value: { ipv6: '10.0.0.1' }, expected: [v('ipv6', 'value must be a valid IPv6 address')] },
  { name: 'string uri', value: { uri: 'relative/path' }, expected: [v('uri', 'value must be a valid absolute URI')] },
  { name: 'string uri_ref', value: { uriRef: 'a b' }, expected: [v('uri_ref', 'value must be a valid URI reference')] },
  { name: 'string address', value: { address: 'not an address' }, expected: [v('address', 'value must be a valid hostname or IP address')] },
  {
    name: 'string formats pass',
    value: { email: 'ops@colors.local', hostname: 'color.colors.local.', ip: 'fd00::1', ipv4: '10.0.0.1', ipv6: '::1', uri: 'spiffe://colors/front', uriRef: '../x?y=1', address: 'fd00::1', uuid: '123e4567-e89b-12d3-a456-426614174000' },
    expected: [],
  },
  { name: 'string uuid', value: { uuid: 'x' }, expected: [v('uuid', 'value must be a valid UUID')] },
  { name: 'strict HTTP header name', value: { headerName: 'x-bad name' }, expected: [v('header_name', 'value must be a valid HTTP header name')] },
  { name: 'strict HTTP header value', value: { headerValue: 'a\u0001b' }, expected: [v('header_value', 'value must be a valid HTTP header value')] },
  { name: 'strict header regexes pass', value: { headerName: ':authority', headerValue: 'tab\tok' }, expected: [] },
  { name: 'string ignore_empty skips empty', value: { ignoreEmpty: '' }, expected: [] },
  { name: 'string ignore_empty checks non-empty', value: { ignoreEmpty: 'ab' }, expected: [v('ignore_empty', 'value length must be at least 3 characters')] },
  { name: 'int32 const', value: { int32Const: 8 }, expected: [v('int32_const', 'value must equal 7')] },
  { name: 'int64 in (decimal string)', value: { int64In: '4' }, expected: [v('int64_in', 'value must be in list [1, 2, 3]')] },
  { name: 'sint32 not_in', value: { sint32NotIn: -1 }, expected: [v('sint32_not_in', 'value must not be in list [-1]')] },
  { name: 'sint64 gt (Long)', value: { sint64Gt: Long.fromNumber(-5, false) }, expected: [v('sint64_gt', 'value must be greater than -5')] },
  { name: 'fixed32 lt', value: { fixed32Lt: 10 }, expected: [v('fixed32_lt', 'value must be less than 10')] },
  { name: 'fixed64 gte (unsigned Long)', value: { fixed64Gte: Long.fromNumber(9, true) }, expected: [v('fixed64_gte', 'value must be greater than or equal to 10')] },
  { name: 'sfixed32 inside range', value: { sfixed32Range: 10 }, expected: [v('sfixed32_range', 'value must be inside range [-10, 10)')] },
  { name: 'sfixed64 outside range', value: { sfixed64Outside: 0 }, expected: [v('sfixed64_outside', 'value must be outside range [-10, 10]')] },
  { name: 'sfixed64 outside range passes', value: { sfixed64Outside: -11 }, expected: [] },
  {
    name: 'uint64 beyond 2^53 compares exactly', value: { uint64Max: Long.fromString('9007199254740993', true) },
    expected: [v('uint64_max', 'value must be less than or equal to 9007199254740992')],
  },
  { name: 'uint64 at the bound passes', value: { uint64Max: Long.fromString('9007199254740992', true) }, expected: [] },
  { name: 'float gt', value: { floatGt: 0.5 }, expected: [v('float_gt', 'value must be greater than 0.5')] },
  { name: 'float compares in single precision', value: { floatGt: 0.5000000001 }, expected: [v('float_gt', 'value must be greater than 0.5')] },
  { name: 'int32 that is not a number', value: { int32Const: 'seven' }, expected: [v('int32_const', 'value is not a valid int32')], plainOnly: true },
  { name: 'double NaN fails lte', value: { doubleLte: Number.NaN }, expected: [v('double_lte', 'value must be less than or equal to 1.5')] },
  { name: 'numeric ignore_empty skips zero', value: { uint32IgnoreEmpty: 0 }, expected: [] },
  { name: 'numeric ignore_empty checks non-zero', value: { uint32IgnoreEmpty: 5 }, expected: [v('uint32_ignore_empty', 'value must be greater than or equal to 10')] },
  { name: 'enum in (by name)', value: { colorIn: 'BLUE' }, expected: [v('color_in', 'value must be in list [1, 2]')] },
  { name: 'enum const', value: { colorConst: 1 }, expected: [v('color_const', 'value must equal 3')] },
  { name: 'enum defined_only', value: { colorDefined: 9 }, expected: [v('color_defined', 'value must be one of the defined enum values')] },
  { name: 'enum unknown name', value: { colorDefined: 'PURPLE' }, expected: [v('color_defined', 'unknown Color value "PURPLE"')], plainOnly: true },
  { name: 'bytes min_len', value: { bytesLen: Buffer.from([1]) }, expected: [v('bytes_len', 'value length must be at least 2 bytes')] },
  { name: 'bytes max_len (base64 form)', value: { bytesLen: 'AQIDBA==' }, expected: [v('bytes_len', 'value length must be at most 3 bytes')] },
  { name: 'bytes prefix', value: { bytesPrefix: Buffer.from('xy') }, expected: [v('bytes_prefix', 'value does not have prefix "ab"')] },
  { name: 'bytes ipv4', value: { bytesIpv4: Buffer.from([10, 0, 0, 1, 0]) }, expected: [v('bytes_ipv4', 'value must be a valid IPv4 address')] },
  { name: 'bool const', value: { boolConst: false }, expected: [v('bool_const', 'value must equal true')] },
  {
    name: 'repeated max_items, items and unique', value: { tags: ['t1', 'x', 't1'] },
    expected: [v('tags', 'value must contain no more than 2 item(s)'), v('tags[1]', 'value does not have prefix "t"'), v('tags[2]', 'repeated value must contain unique items')],
  },
  { name: 'repeated messages are recursed into', value: { inners: [{ id: 'a' }, { id: '' }] }, expected: [v('inners[1].id', 'value length must be at least 1 characters')] },
  { name: 'repeated items message.skip', value: { skippedItems: [{ id: '' }] }, expected: [] },
  {
    name: 'map max_pairs, key rules and values', value: { byNumber: { 0: { id: 'x' }, 1: { id: '' }, 2: { id: 'y' } } },
    expected: [v('by_number', 'value must contain no more than 2 pair(s)'), v('by_number["0"]', 'map key: value must be greater than 0'), v('by_number["1"].id', 'value length must be at least 1 characters')],
  },
  { name: 'map no_sparse', value: { byNumber: { 3: null } }, expected: [v('by_number["3"]', 'map values cannot be unset')], plainOnly: true },
  {
    name: 'map string keys and values', value: { labels: { '': 'ok', k: 'long' } },
    expected: [v('labels[""]', 'map key: value length must be at least 1 characters'), v('labels["k"]', 'value length must be at most 3 characters')],
  },
  {
    name: 'map int64 values', value: { limits: { a: 100, b: 1 } },
    expected: [v('limits', 'value must contain no more than 1 pair(s)'), v('limits["a"]', 'value must be less than 100')],
  },
  { name: 'map message values are recursed into', value: { named: { x: { id: '' } } }, expected: [v('named["x"].id', 'value length must be at least 1 characters')] },
  {
    name: 'timestamp range', value: { window: { seconds: 3000 } },
    expected: [v('window', 'value must be inside range (1970-01-01T00:16:40.000Z, 1970-01-01T00:33:20.000Z)')],
  },
  { name: 'timestamp lt_now', value: { past: { seconds: 4102444800 } }, expected: [v('past', 'value must be less than now')] },
  { name: 'duration const', value: { durationConst: { seconds: 1 } }, expected: [v('duration_const', 'value must equal 1.5s')] },
  { name: 'duration in', value: { durationIn: { seconds: 3 } }, expected: [v('duration_in', 'value must be in list [1s, 2s]')] },
  {
    name: 'any in, and its contents are checked', value: { anyIn: { '@type': 'type.googleapis.com/test.pgv.Tree', name: '' } },
    expected: [v('any_in', 'type URL must be in list ["type.googleapis.com/test.pgv.Inner"]'), v('any_in<test.pgv.Tree>.name', 'value length must be at least 1 characters')],
  },
  { name: 'any contents', value: { anyIn: { '@type': INNER_URL, id: '' } }, expected: [v('any_in<test.pgv.Inner>.id', 'value length must be at least 1 characters')] },
  {
    name: 'any not_in (contents of a disabled message are not checked)', value: { anyNotIn: { '@type': 'type.googleapis.com/test.pgv.Disabled', id: '' } },
    expected: [v('any_not_in', 'type URL must not be in list ["type.googleapis.com/test.pgv.Disabled"]')],
  },
  { name: 'any of an unknown type', value: { anyNotIn: { type_url: 'type.googleapis.com/unknown.v1.Thing', value: Buffer.from([1, 2, 3]) } }, expected: [] },
  { name: 'message.skip', value: { skipped: { id: '' } }, expected: [] },
  { name: 'nested message without rules of its own', value: { nested: { id: '' } }, expected: [v('nested.id', 'value length must be at least 1 characters')] },
  { name: 'validate.disabled message', value: { disabled: { id: '' } }, expected: [] },
  { name: 'wrapper applies the scalar rule', value: { wrappedInt64: { value: 0 } }, expected: [v('wrapped_int64', 'value must be greater than 0')] },
  { name: 'wrapper set but empty', value: { wrappedString: {} }, expected: [v('wrapped_string', 'value length must be at least 2 characters')] },
  { name: 'wrapper passes', value: { wrappedInt64: { value: '5' }, wrappedString: { value: 'ok' } }, expected: [] },
  {
    name: 'self-recursive messages', value: { tree: { name: 'root', children: [{ name: 'a', children: [{ name: 'b' }, { name: '' }] }] } },
    expected: [v('tree.children[0].children[1].name', 'value length must be at least 1 characters')],
  },
];
