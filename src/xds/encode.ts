// Plain protobufjs-shaped objects (camelCase fields, enums by name or number, Any as
// `{'@type': url, ...fields}`) straight to protobuf bytes: byte for byte what
// `Type.encode(Type.fromObject(object)).finish()` gives, without the message objects fromObject
// builds nor the Writer's list of operations. A translation encodes ~10 resources per node and
// that pair was most of its time.
//
// Driven by protobufjs's reflection of the loaded protos (encode-plan.ts), so it covers every
// message, not the handful meshd writes today. It follows protobufjs's rules, including the
// surprising ones: a field set to its default value is written (fromObject keeps any value that
// is not null/undefined), an unknown enum name leaves a field unset (in a repeated field it
// becomes the default), an Any whose '@type' names no loaded type is read as `{type_url, value}`.
//
// Two passes over the object: the first measures every nested message (sizes kept in visiting
// order), the second writes into one buffer of the exact size, reading the sizes back in the
// same order. test/xds/encode.test.ts compares its bytes with protobufjs's.
import * as protobuf from 'protobufjs';
import { ByteSink, convertScalar, scalarSize, UNSET, varint32Size, writeScalar, type ScalarValue } from './encode-scalars';
import { planOf, type FieldPlan, type MessagePlan, type ValueKind } from './encode-plan';

type PlainMessage = Readonly<Record<string, unknown>>;

// google.protobuf.Any: type_url = 1, value = 2, both length-delimited.
const ANY_TYPE_URL_KEY = (1 << 3) | 2;
const ANY_VALUE_KEY = (2 << 3) | 2;
// A map entry: key = 1, value = 2.
const MAP_ENTRY_KEY_FIELD = 1;
const MAP_ENTRY_VALUE_FIELD = 2;

/**
 * Messages registered by `shareEncoding`: encoded once per message type they are encoded as,
 * then copied wherever they appear (an SDS config source in every cluster of a node, a load
 * assignment every node has).
 */
const sharedEncodings = new WeakMap<object, Map<MessagePlan, Buffer>>();

/**
 * Marks `message` as immutable (frozen, deeply) and shared: each place it is encoded reuses one
 * encoding instead of walking it again. Returns the same object.
 */
export function shareEncoding<T extends object>(message: T): T {
  if (!sharedEncodings.has(message)) {
    deepFreeze(message);
    sharedEncodings.set(message, new Map());
  }
  return message;
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

/** The bytes of `message` as `type`: what `type.encode(type.fromObject(message)).finish()` gives. */
export function encodeMessage(type: protobuf.Type, message: object): Buffer {
  const measured = measureMessage(type, message);
  const bytes = Buffer.allocUnsafe(measured.size);
  measured.writeTo(bytes, 0);
  return bytes;
}

/** A message measured for encoding: its size, then its bytes written wherever the caller has room. */
export interface MeasuredMessage {
  readonly size: number;
  /** Writes the `size` bytes at `at`; once. */
  writeTo(target: Buffer, at: number): void;
}

/** `encodeMessage` in two steps, so the bytes can be written into a larger buffer (an Any, a field) without a copy. */
export function measureMessage(type: protobuf.Type, message: object): MeasuredMessage {
  const plan = planOf(type);
  if (message instanceof plan.ctor || sharedEncodings.has(message)) return preMeasured(preEncoded(plan, message, 0));
  if (plan.fields.length > 0 && !isObject(message)) throw new TypeError(`${type.fullName}: object expected`);
  return new Encoding().measure(plan, message as PlainMessage, 0);
}

function preMeasured(bytes: Buffer): MeasuredMessage {
  return { size: bytes.length, writeTo: (target, at) => { target.set(bytes, at); } };
}

function isObject(value: unknown): value is PlainMessage {
  return typeof value === 'object' && value !== null;
}

function checkObject(field: FieldPlan, value: unknown): asserts value is PlainMessage {
  if (!isObject(value)) throw new TypeError(`${field.fullName}: object expected`);
}

/**
 * Bytes of a message that is not walked here: a protobufjs message instance (fromObject passes it
 * through, so protobufjs's own encoder writes it) or a shared message (encoded once per type).
 */
function preEncoded(plan: MessagePlan, message: object, depth: number): Buffer {
  if (message instanceof plan.ctor) return Buffer.from(plan.type.encode(message).finish());
  const byPlan = sharedEncodings.get(message)!;
  let bytes = byPlan.get(plan);
  if (!bytes) {
    // Memory of its own: it lives as long as the shared message, and a pool slice would pin a slab.
    bytes = new Encoding().encode(plan, message as PlainMessage, depth, Buffer.allocUnsafeSlow);
    byPlan.set(plan, bytes);
  }
  return bytes;
}

/** The number fromObject stores for an enum field's plain value, or UNSET. */
function enumNumber(kind: Extract<ValueKind, { kind: 'enum' }>, raw: unknown, repeated: boolean): number | typeof UNSET {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string') {
    const number = kind.numbersByName.get(raw);
    if (number !== undefined) return number;
  }
  return repeated ? kind.defaultNumber : UNSET;
}

/** A scalar or enum value of a map entry, converted; UNSET leaves the entry out (fromObject does not create it). */
function convertMapValue(field: FieldPlan, raw: unknown): ScalarValue | typeof UNSET {
  const { value } = field;
  if (value.kind === 'enum') return enumNumber(value, raw, false);
  if (value.kind !== 'scalar') throw new Error(`${field.fullName}: not a scalar field`);
  return convertScalar(value.type, raw);
}

/**
 * A scalar or enum element of a repeated field, converted. An element fromObject cannot convert
 * (bytes without a length) leaves a hole that protobufjs's writer fails on; so does this.
 */
function convertElement(field: FieldPlan, raw: unknown): ScalarValue {
  const { value } = field;
  if (value.kind === 'enum') return enumNumber(value, raw, true)!;
  if (value.kind !== 'scalar') throw new Error(`${field.fullName}: not a scalar field`);
  const converted = convertScalar(value.type, raw);
  if (converted === UNSET) throw new TypeError(`${field.fullName}: bytes expected`);
  return converted;
}

function scalarTypeOf(field: FieldPlan): 'int32' | Extract<ValueKind, { kind: 'scalar' }>['type'] {
  return field.value.kind === 'scalar' ? field.value.type : 'int32';
}

class Encoding implements MeasuredMessage {
  /**
   * Per nested message, map entry and packed run, in visiting order: its length, or for a
   * pre-encoded message its bytes. The write pass reads them back in the same order.
   */
  private readonly pieces: (number | Buffer)[] = [];
  private nextPiece = 0;
  /** Per message walked, the fields the measuring pass found in it, for the write pass. */
  private readonly fieldLists: (readonly FieldPlan[])[] = [];
  private nextFieldList = 0;
  private sink!: ByteSink;
  size = 0;
  private plan!: MessagePlan;
  private message!: PlainMessage;
  private depth = 0;

  /** Encodes in one go into a buffer of its own from `allocate`. */
  encode(plan: MessagePlan, message: PlainMessage, depth: number, allocate: (size: number) => Buffer): Buffer {
    this.measure(plan, message, depth);
    const bytes = allocate(this.size);
    this.writeTo(bytes, 0);
    return bytes;
  }

  measure(plan: MessagePlan, message: PlainMessage, depth: number): this {
    this.plan = plan;
    this.message = message;
    this.depth = depth;
    this.size = this.measureMessage(plan, message, depth);
    return this;
  }

  writeTo(target: Buffer, at: number): void {
    this.sink = new ByteSink(target, at);
    this.writeMessage(this.plan, this.message, this.depth);
    if (this.sink.pos !== at + this.size) throw new Error(`${this.plan.type.fullName}: encoded ${this.sink.pos - at} bytes, measured ${this.size}`);
  }

  // ---- measuring ----

  private measureMessage(plan: MessagePlan, message: PlainMessage, depth: number): number {
    if (depth > protobuf.util.recursionLimit) throw new Error('maximum nesting depth exceeded');
    if (plan.isAny && message['@type']) {
      const target = plan.anyTarget(message['@type'] as string);
      if (target) {
        const urlLength = Buffer.byteLength(target.typeUrl);
        return 1 + varint32Size(urlLength) + urlLength + 1 + this.measureNested(target.plan, message, depth + 1);
      }
    }
    let size = 0;
    const fields = plan.fieldsOf(message);
    this.fieldLists.push(fields);
    for (const field of fields) {
      const raw = message[field.name];
      if (field.mapKeyType) {
        if (raw) size += this.measureMap(field, raw, depth);
      } else if (field.repeated) {
        if (raw) size += this.measureRepeated(field, raw, depth);
      } else {
        size += this.measureSingular(field, raw, depth);
      }
    }
    return size;
  }

  /** A nested message's length prefix and body. */
  private measureNested(plan: MessagePlan, message: PlainMessage, depth: number): number {
    if (message instanceof plan.ctor || sharedEncodings.has(message)) {
      const bytes = preEncoded(plan, message, depth);
      this.pieces.push(bytes);
      return varint32Size(bytes.length) + bytes.length;
    }
    const slot = this.pieces.push(0) - 1;
    const body = this.measureMessage(plan, message, depth);
    this.pieces[slot] = body;
    return varint32Size(body) + body;
  }

  private measureSingular(field: FieldPlan, raw: unknown, depth: number): number {
    const { value } = field;
    if (value.kind === 'enum') {
      const number = enumNumber(value, raw, false);
      return number === UNSET ? 0 : field.keySize + scalarSize('int32', number);
    }
    if (raw === null || raw === undefined) return 0;
    if (value.kind === 'message') {
      checkObject(field, raw);
      return field.keySize + this.measureNested(value.plan, raw, depth + 1);
    }
    const converted = convertScalar(value.type, raw);
    return converted === UNSET ? 0 : field.keySize + scalarSize(value.type, converted);
  }

  private measureRepeated(field: FieldPlan, raw: unknown, depth: number): number {
    if (!Array.isArray(raw)) throw new TypeError(`${field.fullName}: array expected`);
    if (raw.length === 0) return 0;
    const { value } = field;
    if (field.packed) {
      const slot = this.pieces.push(0) - 1;
      const type = scalarTypeOf(field);
      let body = 0;
      for (const element of raw) body += scalarSize(type, convertElement(field, element));
      this.pieces[slot] = body;
      return field.keySize + varint32Size(body) + body;
    }
    let size = 0;
    if (value.kind === 'message') {
      for (const element of raw) {
        checkObject(field, element);
        size += field.keySize + this.measureNested(value.plan, element, depth + 1);
      }
      return size;
    }
    const type = scalarTypeOf(field);
    for (const element of raw) size += field.keySize + scalarSize(type, convertElement(field, element));
    return size;
  }

  private measureMap(field: FieldPlan, raw: unknown, depth: number): number {
    checkObject(field, raw);
    const { value } = field;
    let size = 0;
    for (const key of Object.keys(raw)) {
      const element = raw[key];
      const converted = value.kind === 'message' ? UNSET : convertMapValue(field, element);
      // A value fromObject cannot convert (an unknown enum name, bytes without a length) leaves no entry at all.
      if (value.kind !== 'message' && converted === UNSET) continue;
      const slot = this.pieces.push(0) - 1;
      let entry = 1 + scalarSize(field.mapKeyType!, key) + 1;
      if (value.kind === 'message') {
        checkObject(field, element);
        entry += this.measureNested(value.plan, element, depth + 1);
      } else {
        entry += scalarSize(scalarTypeOf(field), converted);
      }
      this.pieces[slot] = entry;
      size += field.keySize + varint32Size(entry) + entry;
    }
    return size;
  }

  // ---- writing: the same walk, in the same order ----

  private writeMessage(plan: MessagePlan, message: PlainMessage, depth: number): void {
    const { sink } = this;
    if (plan.isAny && message['@type']) {
      const target = plan.anyTarget(message['@type'] as string);
      if (target) {
        sink.varint32(ANY_TYPE_URL_KEY);
        writeScalar(sink, 'string', target.typeUrl);
        sink.varint32(ANY_VALUE_KEY);
        this.writeNested(target.plan, message, depth + 1);
        return;
      }
    }
    for (const field of this.fieldLists[this.nextFieldList++]!) {
      const raw = message[field.name];
      if (field.mapKeyType) {
        if (raw) this.writeMap(field, raw as PlainMessage, depth);
      } else if (field.repeated) {
        if (raw) this.writeRepeated(field, raw as unknown[], depth);
      } else {
        this.writeSingular(field, raw, depth);
      }
    }
  }

  private writeNested(plan: MessagePlan, message: PlainMessage, depth: number): void {
    const piece = this.pieces[this.nextPiece++]!;
    if (typeof piece === 'number') {
      this.sink.varint32(piece);
      this.writeMessage(plan, message, depth);
    } else {
      this.sink.varint32(piece.length);
      this.sink.bytes(piece);
    }
  }

  private writeSingular(field: FieldPlan, raw: unknown, depth: number): void {
    const { sink } = this;
    const kind = field.value;
    if (kind.kind === 'enum') {
      const number = enumNumber(kind, raw, false);
      if (number === UNSET) return;
      sink.varint32(field.key);
      writeScalar(sink, 'int32', number);
      return;
    }
    if (raw === null || raw === undefined) return;
    if (kind.kind === 'message') {
      sink.varint32(field.key);
      this.writeNested(kind.plan, raw as PlainMessage, depth + 1);
      return;
    }
    const converted = convertScalar(kind.type, raw);
    if (converted === UNSET) return;
    sink.varint32(field.key);
    writeScalar(sink, kind.type, converted);
  }

  private writeRepeated(field: FieldPlan, raw: unknown[], depth: number): void {
    if (raw.length === 0) return;
    const { sink } = this;
    const { value } = field;
    if (field.packed) {
      sink.varint32(field.key);
      sink.varint32(this.pieces[this.nextPiece++] as number);
      const type = scalarTypeOf(field);
      for (const element of raw) writeScalar(sink, type, convertElement(field, element));
      return;
    }
    if (value.kind === 'message') {
      for (const element of raw) {
        sink.varint32(field.key);
        this.writeNested(value.plan, element as PlainMessage, depth + 1);
      }
      return;
    }
    const type = scalarTypeOf(field);
    for (const element of raw) {
      sink.varint32(field.key);
      writeScalar(sink, type, convertElement(field, element));
    }
  }

  private writeMap(field: FieldPlan, raw: PlainMessage, depth: number): void {
    const { sink } = this;
    const { value } = field;
    const keyType = field.mapKeyType!;
    for (const key of Object.keys(raw)) {
      const element = raw[key];
      const converted = value.kind === 'message' ? UNSET : convertMapValue(field, element);
      if (value.kind !== 'message' && converted === UNSET) continue;
      sink.varint32(field.key);
      sink.varint32(this.pieces[this.nextPiece++] as number);
      sink.varint32((MAP_ENTRY_KEY_FIELD << 3) | protobuf.types.mapKey[keyType as 'string']);
      writeScalar(sink, keyType, key);
      if (value.kind === 'message') {
        sink.varint32((MAP_ENTRY_VALUE_FIELD << 3) | 2);
        this.writeNested(value.plan, element as PlainMessage, depth + 1);
      } else {
        const type = scalarTypeOf(field);
        sink.varint32((MAP_ENTRY_VALUE_FIELD << 3) | protobuf.types.basic[type]);
        writeScalar(sink, type, converted);
      }
    }
  }
}
