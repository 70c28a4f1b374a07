// What encode.ts needs to know of a message type, read once from protobufjs's reflection (the
// loaded Envoy protos): its fields in the order protobufjs's encoder writes them (by field
// number), each with its tag, how it repeats, and how fromObject converts its values.
import * as protobuf from 'protobufjs';
import { varint32Size, type ScalarType } from './encode-scalars';

const WIRE_LENGTH_DELIMITED = 2;
const ANY_TARGET_MEMO_LIMIT = 1024;

/** How a field's values are converted and written. */
export type ValueKind =
  | { readonly kind: 'scalar'; readonly type: ScalarType }
  | { readonly kind: 'enum'; readonly numbersByName: ReadonlyMap<string, number>; readonly defaultNumber: number }
  | { readonly kind: 'message'; readonly plan: MessagePlan };

export interface FieldPlan {
  /** The field number. */
  readonly id: number;
  /** The property name protobufjs reads (camelCase, or as the proto spells it for protobufjs's own google types). */
  readonly name: string;
  /** `.package.Message.field`, as protobufjs's errors name it. */
  readonly fullName: string;
  /** The key written before each value (a packed run, a map entry), and its size. */
  readonly key: number;
  readonly keySize: number;
  readonly repeated: boolean;
  /** Repeated numbers written as one length-delimited run. */
  readonly packed: boolean;
  /** For a map: the key's scalar type; its entries are (key = 1, value = 2) messages. */
  readonly mapKeyType?: ScalarType;
  readonly value: ValueKind;
}

const plans = new WeakMap<protobuf.Type, MessagePlan>();

/** The plan of a message type, shared by every encoding of it. */
export function planOf(type: protobuf.Type): MessagePlan {
  let plan = plans.get(type);
  if (!plan) {
    plan = new MessagePlan(type);
    plans.set(type, plan);
  }
  return plan;
}

/** What an Any given as `{'@type': url, ...fields}` holds. */
export interface AnyTarget {
  /** The type_url written: '@type' without a leading '.', with a '/' before the name. */
  readonly typeUrl: string;
  readonly plan: MessagePlan;
}

export class MessagePlan {
  /** google.protobuf.Any, which protobufjs's fromObject also takes as `{'@type': url, ...fields}`. */
  readonly isAny: boolean;
  /** protobufjs's message class of the type: an instance of it is encoded by protobufjs itself. */
  readonly ctor: protobuf.Constructor<object>;
  private fieldPlans: readonly FieldPlan[] | undefined;
  private fieldsByName: ReadonlyMap<string, FieldPlan> | undefined;
  private readsInherited: boolean | undefined;
  private readonly anyTargets = new Map<string, AnyTarget>();

  constructor(readonly type: protobuf.Type) {
    this.isAny = type.fullName === '.google.protobuf.Any';
    this.ctor = type.ctor;
  }

  /** Fields by number; built on first use, so a plan can refer to its own type (recursive messages). */
  get fields(): readonly FieldPlan[] {
    this.fieldPlans ??= [...this.type.fieldsArray].sort((a, b) => a.id - b.id).map(fieldPlan);
    return this.fieldPlans;
  }

  /**
   * The fields `message` may set, by number. Envoy's messages have dozens of fields and a
   * translated object sets a few, so for a plain object only its own properties are looked up.
   * protobufjs reads every field through the prototype chain too: where that could find
   * something (an object with another prototype, a field named like an Object.prototype member)
   * every field is visited.
   */
  fieldsOf(message: object): readonly FieldPlan[] {
    this.fieldsByName ??= new Map(this.fields.map((field) => [field.name, field]));
    this.readsInherited ??= this.fields.some((field) => field.name in Object.prototype);
    if (this.readsInherited || Object.getPrototypeOf(message) !== Object.prototype) return this.fields;
    const present: FieldPlan[] = [];
    let ordered = true;
    for (const name of Object.getOwnPropertyNames(message)) {
      const field = this.fieldsByName.get(name);
      if (!field) continue;
      if (present.length > 0 && present[present.length - 1]!.id > field.id) ordered = false;
      present.push(field);
    }
    if (!ordered) present.sort((a, b) => a.id - b.id);
    return present;
  }

  /**
   * For an Any given as `{'@type': url, ...}`: the type_url protobufjs writes and the plan of the
   * message it holds, looked up as its Any wrapper does (the name after the last '/', resolved from
   * google.protobuf.Any's scope). Undefined when the name is unknown: the object is then read as
   * a plain Any (`type_url`, `value`).
   */
  anyTarget(atType: string): AnyTarget | undefined {
    let target = this.anyTargets.get(atType);
    if (target) return target;
    const found = this.type.lookup(atType.substring(atType.lastIndexOf('/') + 1));
    if (found) {
      if (!(found instanceof protobuf.Type)) throw new TypeError(`google.protobuf.Any: ${atType} does not name a message type`);
      let typeUrl = atType.charAt(0) === '.' ? atType.slice(1) : atType;
      if (!typeUrl.includes('/')) typeUrl = `/${typeUrl}`;
      target = { typeUrl, plan: planOf(found) };
    }
    // '@type' strings come from meshd's own builders (a few dozen); the cap only bounds a misuse.
    // A name not found is not remembered: a file loaded later (protos.ts) may define it.
    if (target && this.anyTargets.size < ANY_TARGET_MEMO_LIMIT) this.anyTargets.set(atType, target);
    return target;
  }
}

function valueKind(field: protobuf.Field): ValueKind {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    const numbersByName = new Map(Object.entries(resolved.values));
    // fromObject's fallback for an unknown name in a repeated enum: the field's default.
    return { kind: 'enum', numbersByName, defaultNumber: field.typeDefault as number };
  }
  if (resolved instanceof protobuf.Type) return { kind: 'message', plan: planOf(resolved) };
  return { kind: 'scalar', type: field.type as ScalarType };
}

function fieldPlan(field: protobuf.Field): FieldPlan {
  field.resolve();
  if (field.delimited) throw new Error(`${field.fullName}: group (delimited) encoding is not supported`);
  const value = valueKind(field);
  const wireType = value.kind === 'scalar' ? protobuf.types.basic[value.type] : value.kind === 'enum' ? 0 : WIRE_LENGTH_DELIMITED;
  const scalarType = value.kind === 'enum' ? 'int32' : value.kind === 'scalar' ? value.type : undefined;
  const packed = field.repeated && field.packed && scalarType !== undefined && protobuf.types.packed[scalarType as 'int32'] !== undefined;
  const isMap = field instanceof protobuf.MapField;
  const key = ((field.id << 3) | (isMap || packed ? WIRE_LENGTH_DELIMITED : wireType)) >>> 0;
  return {
    id: field.id,
    name: field.name,
    fullName: field.fullName,
    key,
    keySize: varint32Size(key),
    repeated: field.repeated,
    packed,
    ...(isMap ? { mapKeyType: (field as protobuf.MapField).keyType as ScalarType } : {}),
    value,
  };
}
