// The bytes on the wire. Responses are assembled from pieces encoded once: protobuf's encoding
// of a message is the concatenation of its fields in any order, so a DiscoveryResponse for N
// streams is one shared body (version, resources, type URL) plus a per-stream nonce field.
// Requests are decoded with protobufjs and checked for absurd sizes before anything else.
import * as protobuf from 'protobufjs';
import { messageType } from './protos';
import type { MeasuredMessage } from './encode';
import { MessageParts } from './message-parts';

const WIRE_LEN = 2;

function tag(fieldNumber: number): number {
  return (fieldNumber << 3) | WIRE_LEN;
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) size++;
  return size;
}

/** Writes `value` (a tag or a length: below 2^32) as a varint at `at`; returns the next offset. */
function writeVarint(target: Buffer, at: number, value: number): number {
  let rest = value >>> 0;
  let next = at;
  while (rest >= 0x80) {
    target[next++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  target[next++] = rest;
  return next;
}

// The fields below are written straight into one buffer of the exact size: a resource or a
// response part is built once and shared, but a translation builds thousands of them, and a
// protobufjs Writer plus a copy for each was a good part of its time.

/** One length-delimited field (string, bytes or embedded message) as its own buffer. */
export function lengthDelimitedField(fieldNumber: number, payload: Uint8Array | string): Buffer {
  const key = tag(fieldNumber);
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const field = Buffer.allocUnsafe(varintSize(key) + varintSize(length) + length);
  const at = writeVarint(field, writeVarint(field, 0, key), length);
  if (typeof payload === 'string') field.write(payload, at, 'utf8');
  else field.set(payload, at);
  return field;
}

/** The size `anyField` gives a field holding an Any of `typeUrl` with a value of `valueLength` bytes. */
export function anyFieldSize(fieldNumber: number, typeUrl: string, valueLength: number): number {
  const anyLength = anyBodySize(typeUrl, valueLength);
  return varintSize(tag(fieldNumber)) + varintSize(anyLength) + anyLength;
}

function anyBodySize(typeUrl: string, valueLength: number): number {
  const urlLength = Buffer.byteLength(typeUrl);
  return varintSize(tag(1)) + varintSize(urlLength) + urlLength + varintSize(tag(2)) + varintSize(valueLength) + valueLength;
}

/**
 * A field holding a google.protobuf.Any (type_url = 1, value = 2), and the Any itself: a view
 * into the same bytes, so both forms of a resource cost one buffer. Written into `memory` when
 * given (exactly `anyFieldSize` bytes), else into memory of its own: a long-lived slice of Node's
 * shared pool would pin the whole 8 KB slab.
 */
export function anyField(fieldNumber: number, typeUrl: string, value: Uint8Array | MeasuredMessage, memory?: Buffer): { field: Buffer; any: Buffer } {
  const valueLength = value instanceof Uint8Array ? value.length : value.size;
  const anyLength = anyBodySize(typeUrl, valueLength);
  const key = tag(fieldNumber);
  const headerLength = varintSize(key) + varintSize(anyLength);
  const field = memory ?? Buffer.allocUnsafeSlow(headerLength + anyLength);
  if (field.length !== headerLength + anyLength) throw new Error(`anyField: ${field.length} bytes given for a field of ${headerLength + anyLength}`);
  let at = writeVarint(field, writeVarint(field, 0, key), anyLength);
  at = writeVarint(field, writeVarint(field, at, tag(1)), Buffer.byteLength(typeUrl));
  at += field.write(typeUrl, at, 'utf8');
  at = writeVarint(field, writeVarint(field, at, tag(2)), valueLength);
  // A measured message is written in place: no buffer of its own to copy from.
  if (value instanceof Uint8Array) field.set(value, at);
  else value.writeTo(field, at);
  return { field, any: field.subarray(headerLength) };
}

// DiscoveryResponse: version_info = 1, resources = 2, type_url = 4, nonce = 5.
export const SotwField = { versionInfo: 1, resources: 2, typeUrl: 4, nonce: 5 } as const;
// DeltaDiscoveryResponse: system_version_info = 1, resources = 2, type_url = 4, nonce = 5,
// removed_resources = 6. Resource: version = 1, resource = 2, name = 3.
export const DeltaField = { systemVersionInfo: 1, resources: 2, typeUrl: 4, nonce: 5, removedResources: 6 } as const;
const ResourceField = { version: 1, resource: 2, name: 3 } as const;

/** A DiscoveryResponse without its nonce (or with it, passed as a trailing field), in memory of its own. */
export function sotwBody(versionInfo: string, typeUrl: string, resourceFields: readonly Buffer[], ...trailing: Buffer[]): Buffer {
  return sotwParts(versionInfo, typeUrl, resourceFields, ...trailing).join();
}

/** The same as sotwBody, not yet joined: the resource fields are referenced, not copied. */
export function sotwParts(versionInfo: string, typeUrl: string, resourceFields: readonly Buffer[], ...trailing: Buffer[]): MessageParts {
  return new MessageParts([
    lengthDelimitedField(SotwField.versionInfo, versionInfo),
    ...resourceFields,
    lengthDelimitedField(SotwField.typeUrl, typeUrl),
    ...trailing,
  ]);
}

/** The `resources` entry of a DeltaDiscoveryResponse for one resource. */
export function deltaResourceField(name: string, version: string, any: Buffer): Buffer {
  const resource = Buffer.concat([
    lengthDelimitedField(ResourceField.name, name),
    lengthDelimitedField(ResourceField.version, version),
    lengthDelimitedField(ResourceField.resource, any),
  ]);
  return lengthDelimitedField(DeltaField.resources, resource);
}

export function deltaResponse(args: {
  systemVersionInfo: string;
  typeUrl: string;
  resourceFields: readonly Buffer[];
  removed: readonly string[];
  nonce: string;
}): MessageParts {
  return new MessageParts([
    lengthDelimitedField(DeltaField.systemVersionInfo, args.systemVersionInfo),
    ...args.resourceFields,
    lengthDelimitedField(DeltaField.typeUrl, args.typeUrl),
    ...args.removed.map((name) => lengthDelimitedField(DeltaField.removedResources, name)),
    lengthDelimitedField(DeltaField.nonce, args.nonce),
  ]);
}

// ---- requests ----

export interface NodeInfo {
  id: string;
  cluster: string;
  userAgentName: string;
  /** node.metadata as plain JSON, when given. */
  metadata?: Record<string, unknown>;
}

export interface ErrorDetail {
  code: number;
  message: string;
}

export interface SotwRequest {
  versionInfo: string;
  node?: NodeInfo;
  resourceNames: string[];
  typeUrl: string;
  responseNonce: string;
  errorDetail?: ErrorDetail;
}

export interface DeltaRequest {
  node?: NodeInfo;
  typeUrl: string;
  resourceNamesSubscribe: string[];
  resourceNamesUnsubscribe: string[];
  initialResourceVersions: Record<string, string>;
  responseNonce: string;
  errorDetail?: ErrorDetail;
}

/** Limits on what one request may carry; beyond them the stream ends with INVALID_ARGUMENT. */
export const REQUEST_LIMITS = {
  maxResourceNames: 100_000,
  maxResourceNameLength: 4096,
  maxTypeUrlLength: 512,
} as const;

export class RequestError extends Error {}

interface DecodedNode { id?: string; cluster?: string; userAgentName?: string; metadata?: unknown }
interface DecodedStatus { code?: number; message?: string }

function toNode(raw: DecodedNode | null | undefined): NodeInfo | undefined {
  if (!raw) return undefined;
  const node: NodeInfo = { id: raw.id ?? '', cluster: raw.cluster ?? '', userAgentName: raw.userAgentName ?? '' };
  if (raw.metadata) node.metadata = structToJson(raw.metadata as DecodedStruct);
  return node;
}

interface DecodedValue {
  /** protobufjs names the member of the `kind` oneof that is set. */
  kind?: 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
  numberValue?: number; stringValue?: string; boolValue?: boolean;
  structValue?: DecodedStruct; listValue?: { values?: DecodedValue[] };
}
interface DecodedStruct { fields?: Record<string, DecodedValue> }

/** google.protobuf.Struct as the plain JSON it stands for. */
function structToJson(struct: DecodedStruct): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(struct.fields ?? {})) out[key] = valueToJson(value);
  return out;
}

function valueToJson(value: DecodedValue): unknown {
  switch (value.kind) {
    case 'structValue': return structToJson(value.structValue ?? {});
    case 'listValue': return (value.listValue?.values ?? []).map(valueToJson);
    case 'stringValue': return value.stringValue;
    case 'boolValue': return value.boolValue;
    case 'numberValue': return value.numberValue;
    default: return null;
  }
}

function toErrorDetail(raw: DecodedStatus | null | undefined): ErrorDetail | undefined {
  if (!raw) return undefined;
  return { code: raw.code ?? 0, message: raw.message ?? '' };
}

function checkNames(field: string, names: string[]): void {
  if (names.length > REQUEST_LIMITS.maxResourceNames) {
    throw new RequestError(`${field} lists ${names.length} names; at most ${REQUEST_LIMITS.maxResourceNames} are accepted`);
  }
  for (const name of names) {
    if (name.length > REQUEST_LIMITS.maxResourceNameLength) {
      throw new RequestError(`${field} has a name of ${name.length} characters; at most ${REQUEST_LIMITS.maxResourceNameLength} are accepted`);
    }
  }
}

function checkTypeUrl(typeUrl: string): void {
  if (typeUrl.length > REQUEST_LIMITS.maxTypeUrlLength) throw new RequestError(`type_url is ${typeUrl.length} characters long`);
}

/** What a caller needs of a request beyond its subscription fields. */
export interface DecodeOptions {
  /**
   * Whether to decode `node`. A stream fixes its node with its first request and ignores it
   * afterwards, and Envoy, unless told `set_node_on_first_message_only`, repeats its node (with
   * its list of extensions, ~20 KB) on every request: decoding it for every ACK cost more CPU
   * than the rest of a push. Skipped, it is stepped over, not parsed.
   */
  node: boolean;
}

// DiscoveryRequest: version_info = 1, node = 2, resource_names = 3, type_url = 4,
// response_nonce = 5, error_detail = 6. Other fields (resource_locators) are skipped.
const RequestField = { versionInfo: 1, node: 2, resourceNames: 3, typeUrl: 4, responseNonce: 5, errorDetail: 6 } as const;

/**
 * Reads a DiscoveryRequest field by field with protobufjs's Reader (what its generated decoder
 * does, minus the message object built for every ACK), decoding the embedded node and status
 * with their generated decoders only when they are there and wanted.
 */
export function decodeSotwRequest(bytes: Buffer, options: DecodeOptions = { node: true }): SotwRequest {
  const request: SotwRequest = { versionInfo: '', resourceNames: [], typeUrl: '', responseNonce: '' };
  let rawNode: DecodedNode | undefined;
  let rawStatus: DecodedStatus | undefined;
  try {
    const reader = protobuf.Reader.create(bytes);
    while (reader.pos < reader.len) {
      const key = reader.uint32();
      switch (key >>> 3) {
        case RequestField.versionInfo: request.versionInfo = reader.string(); break;
        case RequestField.resourceNames: request.resourceNames.push(reader.string()); break;
        case RequestField.typeUrl: request.typeUrl = reader.string(); break;
        case RequestField.responseNonce: request.responseNonce = reader.string(); break;
        case RequestField.node:
          if (options.node) rawNode = messageType('envoy.config.core.v3.Node').decode(reader, reader.uint32()) as DecodedNode;
          else reader.skipType(key & 7);
          break;
        case RequestField.errorDetail: rawStatus = messageType('google.rpc.Status').decode(reader, reader.uint32()) as DecodedStatus; break;
        default: reader.skipType(key & 7);
      }
    }
  } catch (err) {
    throw new RequestError(`request is not a valid DiscoveryRequest: ${(err as Error).message}`);
  }
  const node = toNode(rawNode);
  if (node) request.node = node;
  const errorDetail = toErrorDetail(rawStatus);
  if (errorDetail) request.errorDetail = errorDetail;
  checkNames('resource_names', request.resourceNames);
  checkTypeUrl(request.typeUrl);
  return request;
}

// DeltaDiscoveryRequest: node = 1, type_url = 2, resource_names_subscribe = 3,
// resource_names_unsubscribe = 4, initial_resource_versions = 5 (map entries: key = 1,
// value = 2), response_nonce = 6, error_detail = 7. Other fields (resource locators) are skipped.
const DeltaRequestField = { node: 1, typeUrl: 2, subscribe: 3, unsubscribe: 4, initialResourceVersions: 5, responseNonce: 6, errorDetail: 7 } as const;

/** Reads a DeltaDiscoveryRequest as decodeSotwRequest reads a DiscoveryRequest. */
export function decodeDeltaRequest(bytes: Buffer, options: DecodeOptions = { node: true }): DeltaRequest {
  const request: DeltaRequest = { typeUrl: '', resourceNamesSubscribe: [], resourceNamesUnsubscribe: [], initialResourceVersions: {}, responseNonce: '' };
  let rawNode: DecodedNode | undefined;
  let rawStatus: DecodedStatus | undefined;
  try {
    const reader = protobuf.Reader.create(bytes);
    while (reader.pos < reader.len) {
      const key = reader.uint32();
      switch (key >>> 3) {
        case DeltaRequestField.typeUrl: request.typeUrl = reader.string(); break;
        case DeltaRequestField.subscribe: request.resourceNamesSubscribe.push(reader.string()); break;
        case DeltaRequestField.unsubscribe: request.resourceNamesUnsubscribe.push(reader.string()); break;
        case DeltaRequestField.initialResourceVersions: readMapEntry(reader, request.initialResourceVersions); break;
        case DeltaRequestField.responseNonce: request.responseNonce = reader.string(); break;
        case DeltaRequestField.node:
          if (options.node) rawNode = messageType('envoy.config.core.v3.Node').decode(reader, reader.uint32()) as DecodedNode;
          else reader.skipType(key & 7);
          break;
        case DeltaRequestField.errorDetail: rawStatus = messageType('google.rpc.Status').decode(reader, reader.uint32()) as DecodedStatus; break;
        default: reader.skipType(key & 7);
      }
    }
  } catch (err) {
    throw new RequestError(`request is not a valid DeltaDiscoveryRequest: ${(err as Error).message}`);
  }
  const node = toNode(rawNode);
  if (node) request.node = node;
  const errorDetail = toErrorDetail(rawStatus);
  if (errorDetail) request.errorDetail = errorDetail;
  checkNames('resource_names_subscribe', request.resourceNamesSubscribe);
  checkNames('resource_names_unsubscribe', request.resourceNamesUnsubscribe);
  checkNames('initial_resource_versions', Object.keys(request.initialResourceVersions));
  checkTypeUrl(request.typeUrl);
  return request;
}

/** One map<string, string> entry (key = 1, value = 2) into `into`; a later entry for a key wins. */
function readMapEntry(reader: protobuf.Reader, into: Record<string, string>): void {
  const end = reader.uint32() + reader.pos;
  let key = '';
  let value = '';
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1) key = reader.string();
    else if (tag >>> 3 === 2) value = reader.string();
    else reader.skipType(tag & 7);
  }
  // Defined, not assigned: a resource named "__proto__" must stay a name, not a prototype.
  Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
}
