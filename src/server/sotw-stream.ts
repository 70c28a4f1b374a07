// State-of-the-world xDS on one stream (ADS or a per-type service). Whether to answer a request
// is decided in one place (onRequest): a NACK is recorded and answered with nothing, a stale
// nonce is ignored, an ACK is answered only if the subscription changed, and a first request gets
// everything that exists. Snapshot changes push a type only when what this stream would receive
// differs from what it last received, so a NACKed version is never resent in a loop. The version
// a stream sees is that of the resources it asked for (ResourceSet.versionFor), so a change to
// resources it did not ask for sends it nothing.
import { isWildcardType, RESEND_CHILDREN_ON_UPDATE, CHILD_TYPE } from '../xds/type-urls';
import { decodeSotwRequest, lengthDelimitedField, SotwField, type SotwRequest } from '../xds/wire';
import { MessageParts } from '../xds/message-parts';
import { ResourceSet } from '../cache/snapshot';
import { nextNonce } from '../xds/nonce';
import { XdsStream, type BuiltResponse } from './xds-stream';

interface SotwTypeState {
  /** null: wildcard (everything of the type). */
  names: string[] | null;
  namesKey: string;
  /** The names as a set, for membership tests (null: wildcard). */
  nameSet: ReadonlySet<string> | null;
  lastNonce: string | undefined;
  /** The last nonce the client ACKed: a second request for it asks for the resources again. */
  ackedNonce: string | undefined;
  /** What was last sent: the version of the names asked for, and those names (undefined: nothing yet). */
  sentVersion: string | undefined;
  sentNamesKey: string | undefined;
  ackedVersion: string | undefined;
}

/** Stands in for a subscription whose names were all refused: matches no resource. */
const REFUSED_PLACEHOLDER = '\u0000refused';

const emptySets = new Map<string, ResourceSet>();
function emptySet(typeUrl: string): ResourceSet {
  let set = emptySets.get(typeUrl);
  if (!set) {
    set = new ResourceSet(typeUrl, []);
    emptySets.set(typeUrl, set);
  }
  return set;
}

export class SotwStream extends XdsStream {
  private readonly types = new Map<string, SotwTypeState>();

  protected handle(bytes: Buffer): void {
    // Once the node is known, later requests' copies of it are stepped over (see DecodeOptions).
    const request = decodeSotwRequest(bytes, { node: this.info === undefined });
    this.establish(request.node);
    const typeUrl = this.resolveTypeUrl(request.typeUrl);
    if (!typeUrl) return;
    const admitted = this.admitNames(typeUrl, request.resourceNames);
    // A subscription whose every name was refused must not turn into a wildcard one.
    if (admitted.length === 0 && request.resourceNames.length > 0) admitted.push(REFUSED_PLACEHOLDER);
    request.resourceNames = admitted;
    this.onRequest(typeUrl, request);
  }

  private onRequest(typeUrl: string, request: SotwRequest): void {
    let state = this.types.get(typeUrl);
    const isFirst = !state || request.responseNonce === '';
    if (state && request.responseNonce !== '' && request.responseNonce !== state.lastNonce) {
      return; // stale: answers a response that has since been superseded
    }
    if (state && request.errorDetail) {
      this.recordNack(typeUrl, request.versionInfo, request.responseNonce, request.errorDetail.message);
      this.subscribe(state, request.resourceNames);
      return;
    }
    if (!state) {
      state = { names: null, namesKey: '*', nameSet: null, lastNonce: undefined, ackedNonce: undefined, sentVersion: undefined, sentNamesKey: undefined, ackedVersion: undefined };
      this.types.set(typeUrl, state);
    }
    // The same names again for a response already ACKed: the client re-created a watch (Envoy
    // does so for the endpoints of an updated cluster) and waits for the resources anew.
    const repeated = !isFirst && request.responseNonce === state.ackedNonce && isResentChild(typeUrl);
    if (!isFirst) {
      state.ackedVersion = request.versionInfo;
      state.ackedNonce = request.responseNonce;
      this.recordAck(typeUrl, request.versionInfo, request.responseNonce);
    }
    const changed = this.subscribe(state, request.resourceNames);
    if (isFirst || changed || repeated) this.schedule(typeUrl, isFirst || repeated);
  }

  /** Applies a request's resource_names; returns whether the subscription changed. */
  private subscribe(state: SotwTypeState, resourceNames: string[]): boolean {
    // Every ACK repeats the subscription: the same names are found without sorting or joining.
    if (state.nameSet && sameNames(state.nameSet, resourceNames)) return false;
    const wildcard = resourceNames.length === 0 || resourceNames.includes('*');
    const names = wildcard ? null : [...new Set(resourceNames)].sort();
    const namesKey = names === null ? '*' : names.join('\u0000');
    if (namesKey === state.namesKey) return false;
    state.names = names;
    state.namesKey = namesKey;
    state.nameSet = names === null ? null : new Set(names);
    return true;
  }

  protected subscribedTypes(): Iterable<string> {
    return this.types.keys();
  }

  protected subscribesAll(typeUrl: string, names: readonly string[]): boolean {
    const nameSet = this.types.get(typeUrl)?.nameSet;
    return nameSet === null || (nameSet !== undefined && names.every((name) => nameSet.has(name)));
  }

  protected resendResources(typeUrl: string, names: readonly string[]): void {
    const state = this.types.get(typeUrl);
    if (!state) return;
    const nameSet = state.nameSet;
    // A state-of-the-world response carries every subscribed resource, so resending the
    // touched ones means sending the subscription again.
    if (nameSet === null || names.some((name) => nameSet.has(name))) this.schedule(typeUrl, true);
  }

  protected buildResponse(typeUrl: string, force: boolean): BuiltResponse | null {
    const state = this.types.get(typeUrl);
    if (!state || !this.snapshot) return null;
    const set = this.snapshot.get(typeUrl) ?? emptySet(typeUrl);
    const version = set.versionFor(state.names, state.namesKey);
    if (!force && version === state.sentVersion && state.namesKey === state.sentNamesKey) return null;
    let resourceCount = set.resources.size;
    if (state.names !== null) {
      resourceCount = state.names.reduce((n, name) => n + (set.resources.has(name) ? 1 : 0), 0);
      // For types where absence means nothing (routes, endpoints), an empty answer says nothing:
      // wait until something asked for exists, unless this stream already holds some of them.
      if (resourceCount === 0 && !isWildcardType(typeUrl) && state.sentVersion === undefined) return null;
    }
    // Usually the response every stream shares; a resend of the same response to this stream
    // needs a nonce of its own.
    let { message, nonce } = set.sotwResponse(state.names, state.namesKey);
    if (nonce === state.lastNonce) {
      nonce = nextNonce();
      message = new MessageParts([set.sotwBody(state.names, state.namesKey), lengthDelimitedField(SotwField.nonce, nonce)]);
    }
    state.sentVersion = version;
    state.sentNamesKey = state.namesKey;
    state.lastNonce = nonce;
    return { message, nonce, version, resourceCount, set, selection: state.names };
  }
}

/** True when `names` (in any order) are exactly the names of `current`, each once; up to 16 names. */
function sameNames(current: ReadonlySet<string>, names: readonly string[]): boolean {
  if (names.length !== current.size || names.length > 16) return false;
  for (let i = 0; i < names.length; i++) {
    if (!current.has(names[i]!)) return false;
    for (let j = 0; j < i; j++) if (names[j] === names[i]) return false;
  }
  return true;
}

/** Child types that are resent after their parents change (the endpoints of clusters). */
function isResentChild(typeUrl: string): boolean {
  for (const parent of RESEND_CHILDREN_ON_UPDATE) if (CHILD_TYPE.get(parent) === typeUrl) return true;
  return false;
}
