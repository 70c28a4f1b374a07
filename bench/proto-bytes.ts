// Just enough protobuf for the load client and the baseline to skip a general-purpose codec:
// build a length-delimited field, and read the string fields of a DiscoveryResponse the client
// needs (version_info, type_url, nonce) without decoding the resources.

/** DiscoveryRequest fields: version_info = 1, node = 2, resource_names = 3, type_url = 4, response_nonce = 5. */
export const RequestField = { versionInfo: 1, node: 2, typeUrl: 4, responseNonce: 5 } as const;
/** DiscoveryResponse fields: version_info = 1, resources = 2, type_url = 4, nonce = 5. */
export const ResponseField = { versionInfo: 1, typeUrl: 4, nonce: 5 } as const;
/** core.v3.Node: id = 1. */
const NODE_ID_FIELD = 1;

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** One length-delimited field (string or bytes). */
export function field(fieldNumber: number, payload: Buffer | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([varint((fieldNumber << 3) | WIRE_LEN), varint(bytes.length), bytes]);
}

/** A stream's first DiscoveryRequest: who it is and which type it wants (wildcard). */
export function initialRequest(nodeId: string, typeUrl: string): Buffer {
  return Buffer.concat([field(RequestField.node, field(NODE_ID_FIELD, nodeId)), field(RequestField.typeUrl, typeUrl)]);
}

/** An ACK: the version and nonce of the response being accepted. */
export function ackRequest(typeUrl: string, versionInfo: string, nonce: string): Buffer {
  return Buffer.concat([field(RequestField.versionInfo, versionInfo), field(RequestField.typeUrl, typeUrl), field(RequestField.responseNonce, nonce)]);
}

export interface ResponseHeader {
  versionInfo: string;
  typeUrl: string;
  nonce: string;
}

function readVarint(bytes: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  let pos = at;
  for (;;) {
    if (pos >= bytes.length) throw new Error('truncated varint in a DiscoveryResponse');
    const byte = bytes[pos++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
}

/** Reads version_info, type_url and nonce of a DiscoveryResponse, skipping every other field. */
export function readResponseHeader(bytes: Buffer): ResponseHeader {
  const header: ResponseHeader = { versionInfo: '', typeUrl: '', nonce: '' };
  let pos = 0;
  while (pos < bytes.length) {
    const [key, afterKey] = readVarint(bytes, pos);
    const fieldNumber = Math.floor(key / 8);
    const wireType = key & 7;
    pos = afterKey;
    if (wireType === WIRE_LEN) {
      const [length, afterLength] = readVarint(bytes, pos);
      const end = afterLength + length;
      if (end > bytes.length) throw new Error(`field ${fieldNumber} of a DiscoveryResponse runs past its end`);
      if (fieldNumber === ResponseField.versionInfo) header.versionInfo = bytes.toString('utf8', afterLength, end);
      else if (fieldNumber === ResponseField.typeUrl) header.typeUrl = bytes.toString('utf8', afterLength, end);
      else if (fieldNumber === ResponseField.nonce) header.nonce = bytes.toString('utf8', afterLength, end);
      pos = end;
    } else if (wireType === WIRE_VARINT) {
      pos = readVarint(bytes, pos)[1];
    } else if (wireType === WIRE_I64) {
      pos += 8;
    } else if (wireType === WIRE_I32) {
      pos += 4;
    } else {
      throw new Error(`unexpected wire type ${wireType} in a DiscoveryResponse`);
    }
  }
  return header;
}
