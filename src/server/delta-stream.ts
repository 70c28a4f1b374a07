// Incremental (Delta) xDS on one stream. Per type the stream remembers which resources the client
// holds and at which version (seeded from initial_resource_versions on reconnect), so a push
// carries only what changed and removed_resources for what went away. Subscription changes are
// applied whatever nonce they carry; ACK and NACK count only for the latest nonce. A NACKed
// resource is not resent until its content changes. A subscribe to a name the client already
// holds is answered with it anyway (the client may have forgotten it), and so is an unsubscribe
// of a name a wildcard also covers (in resources if the wildcard has it, else in removed).
import { isWildcardType } from '../xds/type-urls';
import { decodeDeltaRequest, deltaResponse, type DeltaRequest } from '../xds/wire';
import type { EncodedResource } from '../cache/resource';
import { XdsStream, type BuiltResponse } from './xds-stream';
import { nextNonce } from '../xds/nonce';

interface DeltaTypeState {
  wildcard: boolean;
  subscribed: Set<string>;
  /** What the client holds: name -> version. */
  held: Map<string, string>;
  /** Subscribed names already reported as not existing (so the report is not repeated). */
  reportedAbsent: Set<string>;
  /** Names to send on the next push whatever the client holds. */
  forced: Set<string>;
  lastNonce: string | undefined;
  sentVersion: string | undefined;
}

export class DeltaStream extends XdsStream {
  private readonly types = new Map<string, DeltaTypeState>();

  protected handle(bytes: Buffer): void {
    // Once the node is known, later requests' copies of it are stepped over (see DecodeOptions).
    const request = decodeDeltaRequest(bytes, { node: this.info === undefined });
    this.establish(request.node);
    const typeUrl = this.resolveTypeUrl(request.typeUrl);
    if (!typeUrl) return;
    const subscribe = this.admitNames(typeUrl, request.resourceNamesSubscribe);
    // Versions the client already holds count for names it subscribes to, by name or by a
    // wildcard (implicit: no names; explicit: "*").
    const wildcard = request.resourceNamesSubscribe.length === 0 || subscribe.includes('*');
    const subscribed = new Set(subscribe);
    const initial = Object.fromEntries(Object.entries(request.initialResourceVersions).filter(([name]) => wildcard || subscribed.has(name)));
    this.onRequest(typeUrl, { ...request, resourceNamesSubscribe: subscribe, initialResourceVersions: initial });
  }

  private onRequest(typeUrl: string, request: DeltaRequest): void {
    let state = this.types.get(typeUrl);
    const isFirst = !state;
    if (!state) {
      state = { wildcard: false, subscribed: new Set(), held: new Map(), reportedAbsent: new Set(), forced: new Set(), lastNonce: undefined, sentVersion: undefined };
      this.types.set(typeUrl, state);
      for (const [name, version] of Object.entries(request.initialResourceVersions)) state.held.set(name, version);
      // The first request of a wildcard-capable type with no names is a legacy wildcard subscription.
      if (request.resourceNamesSubscribe.length === 0 && isWildcardType(typeUrl)) state.wildcard = true;
    }
    if (request.responseNonce !== '' && request.responseNonce === state.lastNonce) {
      if (request.errorDetail) this.recordNack(typeUrl, state.sentVersion ?? '', request.responseNonce, request.errorDetail.message);
      else this.recordAck(typeUrl, state.sentVersion ?? '', request.responseNonce);
    }
    let changed = false;
    for (const name of request.resourceNamesSubscribe) {
      if (name === '*') {
        changed ||= !state.wildcard;
        state.wildcard = true;
        continue;
      }
      // On a later request, a name the client is subscribed to already must be sent again
      // ("the server must still provide those resources"); on the first, held versions count.
      if (!isFirst && (state.subscribed.has(name) || state.wildcard)) state.forced.add(name);
      state.subscribed.add(name);
      changed = true;
    }
    for (const name of request.resourceNamesUnsubscribe) {
      if (name === '*') {
        state.wildcard = false;
        continue;
      }
      if (!state.subscribed.delete(name)) continue; // a phantom unsubscription
      if (state.wildcard) {
        // Still covered by the wildcard: the client cannot know whether to keep it, so say.
        state.forced.add(name);
        changed = true;
      } else {
        // Unsubscribed: the client forgets it, so a later subscribe must send it again.
        state.held.delete(name);
      }
      state.reportedAbsent.delete(name);
    }
    if (isFirst || changed) this.schedule(typeUrl, isFirst);
  }

  protected subscribedTypes(): Iterable<string> {
    return this.types.keys();
  }

  protected subscribesAll(typeUrl: string, names: readonly string[]): boolean {
    const state = this.types.get(typeUrl);
    return !!state && (state.wildcard || names.every((name) => state.subscribed.has(name)));
  }

  protected resendResources(typeUrl: string, names: readonly string[]): void {
    const state = this.types.get(typeUrl);
    if (!state) return;
    let any = false;
    for (const name of names) {
      if (!state.wildcard && !state.subscribed.has(name)) continue;
      state.forced.add(name);
      any = true;
    }
    if (any) this.schedule(typeUrl, false);
  }

  protected buildResponse(typeUrl: string, force: boolean): BuiltResponse | null {
    const state = this.types.get(typeUrl);
    if (!state || !this.snapshot) return null;
    const set = this.snapshot.get(typeUrl);
    const resources = set?.resources ?? new Map<string, EncodedResource>();
    const changed: EncodedResource[] = [];
    const removed: string[] = [];
    const considered = new Set<string>();
    const consider = (name: string): void => {
      if (considered.has(name)) return;
      considered.add(name);
      const resource = resources.get(name);
      const forced = state.forced.has(name);
      if (resource) {
        state.reportedAbsent.delete(name);
        if (forced || state.held.get(name) !== resource.version) {
          changed.push(resource);
          state.held.set(name, resource.version);
        }
      } else if (state.held.has(name)) {
        removed.push(name);
        state.held.delete(name);
      } else if (forced || (state.subscribed.has(name) && !state.reportedAbsent.has(name))) {
        // Tell the client a resource it asked for does not exist, so it need not wait for it.
        removed.push(name);
        if (state.subscribed.has(name)) state.reportedAbsent.add(name);
      }
    };
    if (state.wildcard) {
      for (const name of resources.keys()) consider(name);
      for (const name of [...state.held.keys()]) if (!resources.has(name)) consider(name);
    }
    for (const name of state.subscribed) consider(name);
    for (const name of state.forced) consider(name);
    state.forced.clear();
    if (changed.length === 0 && removed.length === 0 && !(force && state.wildcard)) return null;
    const selection = state.wildcard ? null : [...state.subscribed].sort();
    const version = set?.versionFor(selection) ?? '';
    const nonce = nextNonce();
    state.lastNonce = nonce;
    state.sentVersion = version;
    return {
      message: deltaResponse({ systemVersionInfo: version, typeUrl, resourceFields: changed.map((r) => r.deltaField), removed, nonce }),
      nonce,
      version,
      resourceCount: changed.length,
      set,
      selection,
    };
  }
}
