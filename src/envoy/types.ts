// Shapes every Envoy builder shares: a protobuf message as the plain object protobufjs takes, and
// the credential a proxy presents to meshd. Kept apart from any one builder so that importing a
// type does not import a builder.

/** A JSON-shaped value as protobufjs' fromObject takes it. */
export type ProtoValue = string | number | boolean | null | ProtoValue[] | ProtoObject;
/** A protobuf message as a plain protobufjs camelCase object. */
export interface ProtoObject { [field: string]: ProtoValue }

/** What a proxy presents to meshd to prove its node id. */
export interface NodeCredential {
  /** gRPC metadata key, lower case (e.g. `x-meshd-node-token`). */
  header: string;
  /** The secret value; never logged, never put in error messages. */
  value: string;
}
