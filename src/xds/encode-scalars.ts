// The scalar half of encode.ts: how protobufjs converts a plain value of each protobuf scalar type
// (its generated fromObject), and how its BufferWriter sizes and writes the converted value. The
// two steps are kept apart as protobufjs keeps them, because map keys skip the first (fromObject
// leaves them as the object's string keys and the writer coerces them).
import * as protobuf from 'protobufjs';

/** Protobuf scalar type names, as protobufjs's reflection spells them (enums are written as int32). */
export type ScalarType =
  | 'double' | 'float' | 'int32' | 'uint32' | 'sint32' | 'fixed32' | 'sfixed32'
  | 'int64' | 'uint64' | 'sint64' | 'fixed64' | 'sfixed64' | 'bool' | 'string' | 'bytes';

/** A scalar as a converted message holds it (numbers, Long-likes, strings, booleans, byte arrays). */
export type ScalarValue = number | string | boolean | Uint8Array | ArrayLike<number> | LongLike;

interface LongLike { low: number; high: number }
interface LongStatic { fromValue(value: unknown, unsigned?: boolean): LongLike }

// protobufjs uses long.js when it is installed (it is one of its dependencies); its conversions
// below are only byte-exact with it, so its absence is a setup error, not a silent difference.
const Long = protobuf.util.Long as unknown as LongStatic | undefined;
if (!Long) throw new Error('protobufjs is loaded without long.js; 64-bit fields cannot be encoded as it encodes them');

/** fromObject leaves an unset field for this (an unknown enum name, bytes without a length). */
export const UNSET = undefined;

/** The value fromObject stores for plain `raw` in a field of scalar `type`, or UNSET. */
export function convertScalar(type: ScalarType, raw: unknown): ScalarValue | typeof UNSET {
  switch (type) {
    case 'double':
    case 'float': return Number(raw);
    case 'uint32':
    case 'fixed32': return (raw as number) >>> 0;
    case 'int32':
    case 'sint32':
    case 'sfixed32': return (raw as number) | 0;
    case 'uint64':
    case 'fixed64': return Long!.fromValue(raw, true);
    case 'int64':
    case 'sint64':
    case 'sfixed64': return Long!.fromValue(raw, false);
    case 'string': return String(raw);
    case 'bool': return Boolean(raw);
    case 'bytes': {
      if (typeof raw === 'string') {
        const bytes = protobuf.util.newBuffer(protobuf.util.base64.length(raw));
        protobuf.util.base64.decode(raw, bytes, 0);
        return bytes;
      }
      return (raw as ArrayLike<number>).length >= 0 ? (raw as ArrayLike<number>) : UNSET;
    }
  }
}

// ---- sizes and writes, as protobufjs's (Buffer)Writer does them ----

export function varint32Size(value: number): number {
  return value < 128 ? 1 : value < 16384 ? 2 : value < 2097152 ? 3 : value < 268435456 ? 4 : 5;
}

function varint64Size(bits: protobuf.util.LongBits): number {
  let { lo, hi } = bits;
  let size = 1;
  while (hi) {
    size++;
    lo = (lo >>> 7 | hi << 25) >>> 0;
    hi >>>= 7;
  }
  while (lo > 127) {
    size++;
    lo >>>= 7;
  }
  return size;
}

function zigZag64(bits: protobuf.util.LongBits): protobuf.util.LongBits {
  const mask = bits.hi >> 31;
  return new protobuf.util.LongBits((bits.lo << 1 ^ mask) >>> 0, ((bits.hi << 1 | bits.lo >>> 31) ^ mask) >>> 0);
}

/** LongBits of a value as the writer takes it (number, numeric string or Long-like). */
function longBits(value: unknown): protobuf.util.LongBits {
  return protobuf.util.LongBits.from(value as number);
}

/** A growing position in an exactly sized buffer. */
export class ByteSink {
  constructor(readonly buf: Buffer, public pos = 0) {}

  varint32(value: number): void {
    const { buf } = this;
    let rest = value >>> 0;
    while (rest > 127) {
      buf[this.pos++] = (rest & 127) | 128;
      rest >>>= 7;
    }
    buf[this.pos++] = rest;
  }

  varint64(bits: protobuf.util.LongBits): void {
    const { buf } = this;
    let { lo, hi } = bits;
    while (hi) {
      buf[this.pos++] = (lo & 127) | 128;
      lo = (lo >>> 7 | hi << 25) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      buf[this.pos++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  fixed32(value: number): void {
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(value: ArrayLike<number>): void {
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /**
   * UTF-8 of a string of `byteLength` bytes. Like BufferWriter: protobufjs's own encoder under 40
   * UTF-16 units, Buffer's above (they differ on lone surrogates, so the split is kept).
   */
  string(value: string, byteLength: number): void {
    if (value.length < 40) protobuf.util.utf8.write(value, this.buf, this.pos);
    else this.buf.write(value, this.pos, byteLength, 'utf8');
    this.pos += byteLength;
  }
}

/** Bytes the writer's method for `type` writes for `value` (no tag). */
export function scalarSize(type: ScalarType, value: unknown): number {
  switch (type) {
    case 'double':
    case 'fixed64':
    case 'sfixed64': return 8;
    case 'float':
    case 'fixed32':
    case 'sfixed32': return 4;
    case 'bool': return 1;
    case 'uint32': return varint32Size((value as number) >>> 0);
    case 'int32': return ((value as number) | 0) < 0 ? 10 : varint32Size((value as number) >>> 0);
    case 'sint32': return varint32Size(((value as number) << 1 ^ (value as number) >> 31) >>> 0);
    case 'int64':
    case 'uint64': return varint64Size(longBits(value));
    case 'sint64': return varint64Size(zigZag64(longBits(value)));
    case 'string': {
      const length = Buffer.byteLength(value as string);
      return varint32Size(length) + length;
    }
    case 'bytes': {
      const length = (value as ArrayLike<number>).length >>> 0;
      return varint32Size(length) + length;
    }
  }
}

/** Writes `value` as the writer's method for `type` does (no tag). */
export function writeScalar(sink: ByteSink, type: ScalarType, value: unknown): void {
  switch (type) {
    case 'double':
      sink.buf.writeDoubleLE(value as number, sink.pos);
      sink.pos += 8;
      return;
    case 'float':
      sink.buf.writeFloatLE(value as number, sink.pos);
      sink.pos += 4;
      return;
    case 'fixed32':
    case 'sfixed32': return sink.fixed32(value as number);
    case 'fixed64':
    case 'sfixed64': {
      const bits = longBits(value);
      sink.fixed32(bits.lo);
      sink.fixed32(bits.hi);
      return;
    }
    case 'bool':
      sink.buf[sink.pos++] = value ? 1 : 0;
      return;
    case 'uint32': return sink.varint32(value as number);
    case 'int32': {
      const int = (value as number) | 0;
      if (int < 0) sink.varint64(protobuf.util.LongBits.fromNumber(int));
      else sink.varint32(int);
      return;
    }
    case 'sint32': return sink.varint32(((value as number) << 1 ^ (value as number) >> 31) >>> 0);
    case 'int64':
    case 'uint64': return sink.varint64(longBits(value));
    case 'sint64': return sink.varint64(zigZag64(longBits(value)));
    case 'string': {
      const length = Buffer.byteLength(value as string);
      sink.varint32(length);
      if (length) sink.string(value as string, length);
      return;
    }
    case 'bytes': {
      const bytes = value as ArrayLike<number>;
      sink.varint32(bytes.length >>> 0);
      if (bytes.length) sink.bytes(bytes);
      return;
    }
  }
}
