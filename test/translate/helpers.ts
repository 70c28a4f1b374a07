// Shared checks for translation tests: every resource passes Envoy's PGV constraints,
// round-trips through protobufjs encoding and is written byte for byte the same by meshd's own
// encoder; snapshots are consistent, SDS names are allowed; plus small accessors into the
// generated protobufjs-shaped messages.
import { strict as assert } from 'node:assert';
import type { ResourceInput } from '../../src/cache/snapshot';
import type { MeshModel } from '../../src/model/types';
import { buildSnapshot, sdsSecretNamesOf, sdsSecretsNeeded, translateEndpoint, type EndpointResources, type TranslateOptions } from '../../src/translate';
import { formatPgvViolations, validateMessage, validateResource } from '../../src/xds/pgv';
import { encodeMessage } from '../../src/xds/encode';
import { messageType } from '../../src/xds/protos';
import { messageNameOf, TypeUrl } from '../../src/xds/type-urls';

/** A protobufjs-shaped message, read loosely in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Msg = Record<string, any>;

export const credential = { header: 'x-meshd-node-token', value: 'token-value' };
export const withCredential: TranslateOptions = { credentialFor: () => credential };
export const noCredential: TranslateOptions = { credentialFor: () => undefined };

/** Fails with every PGV violation of every resource, and with any resource whose bytes do not round-trip. */
export function assertValidResources(resources: Readonly<Record<string, readonly ResourceInput[]>>): void {
  const problems: string[] = [];
  for (const [typeUrl, list] of Object.entries(resources)) {
    const Type = messageType(messageNameOf(typeUrl));
    for (const resource of list) {
      const label = `${messageNameOf(typeUrl)} ${resource.name}`;
      const plain = validateMessage(Type, resource.message);
      if (plain.length > 0) problems.push(`${label}:\n${formatPgvViolations(plain)}`);
      const bytes = Type.encode(Type.fromObject(resource.message)).finish();
      // What meshd serves is written by xds/encode.ts; it must be protobufjs's bytes exactly.
      if (!encodeMessage(Type, resource.message).equals(bytes)) problems.push(`${label}: xds/encode differs from protobufjs's encoding`);
      const encoded = validateResource(typeUrl, bytes);
      if (encoded.length > 0) problems.push(`${label} (encoded):\n${formatPgvViolations(encoded)}`);
      const again = Type.encode(Type.decode(bytes)).finish();
      if (Buffer.compare(Buffer.from(bytes), Buffer.from(again)) !== 0) problems.push(`${label}: bytes do not round-trip`);
      const decoded = Type.toObject(Type.decode(bytes), { defaults: false }) as Msg;
      if (decoded.name !== undefined && decoded.name !== resource.name) problems.push(`${label}: message name is ${decoded.name}`);
      if (decoded.clusterName !== undefined && decoded.clusterName !== resource.name) problems.push(`${label}: clusterName is ${decoded.clusterName}`);
    }
  }
  assert.deepEqual(problems, []);
}

/** Translates an endpoint and runs every generic check on it; returns its resources. */
export function checkedTranslation(model: MeshModel, endpointId: string, options: TranslateOptions = withCredential): EndpointResources {
  const resources = translateEndpoint(model, endpointId, options);
  assertValidResources(resources);
  assert.deepEqual(buildSnapshot(model, endpointId, options).consistencyErrors(), []);
  const allowed = sdsSecretsNeeded(model, endpointId, options).map((use) => use.secretName);
  for (const name of sdsSecretNamesOf(resources)) assert.ok(allowed.includes(name), `${endpointId} refers to SDS secret ${name}, not one it may be served (${allowed.join(', ')})`);
  return resources;
}

/** The resource of a type by name (fails when absent). */
export function resource(resources: EndpointResources, typeUrl: TypeUrl, name: string): Msg {
  const found = resources[typeUrl].find((candidate) => candidate.name === name);
  assert.ok(found, `no ${messageNameOf(typeUrl)} named ${name}; have ${resources[typeUrl].map((r) => r.name).join(', ')}`);
  return found.message as Msg;
}

export const listenerOf = (r: EndpointResources, name: string): Msg => resource(r, TypeUrl.Listener, name);
export const clusterOf = (r: EndpointResources, name: string): Msg => resource(r, TypeUrl.Cluster, name);
export const routeOf = (r: EndpointResources, name: string): Msg => resource(r, TypeUrl.RouteConfiguration, name);
export const namesOf = (r: EndpointResources, typeUrl: TypeUrl): string[] => r[typeUrl].map((x) => x.name);

/** The common TLS context inside a transport socket. */
export function commonTls(transportSocket: Msg | undefined): Msg {
  assert.ok(transportSocket, 'expected a TLS transport socket');
  return transportSocket.typedConfig.commonTlsContext as Msg;
}

/** The SAN matchers of a common TLS context, as `TYPE:exact|suffix:value`. */
export function sansOf(common: Msg): string[] {
  const context = common.combinedValidationContext?.defaultValidationContext ?? common.validationContext ?? {};
  return (context.matchTypedSubjectAltNames ?? []).map((m: Msg) => {
    const [kind, value] = Object.entries(m.matcher)[0]!;
    return `${m.sanType}:${kind}:${String(value)}`;
  });
}

/** The SDS name of the trust of a common TLS context, or `file:<path>`, or undefined. */
export function trustOf(common: Msg): string | undefined {
  const sds = common.combinedValidationContext?.validationContextSdsSecretConfig ?? common.validationContextSdsSecretConfig;
  if (sds) return String(sds.name);
  const file = common.validationContext?.trustedCa?.filename;
  return file === undefined ? undefined : `file:${String(file)}`;
}

/** The HCM typed config of a filter chain's only filter. */
export function hcmOf(chain: Msg): Msg {
  return chain.filters[0].typedConfig as Msg;
}
