// Applying a validated mesh model: translate it (reusing what did not change), publish the
// rebuilt snapshots through the publisher's checks (all or nothing), forget endpoints that left,
// then tell the listeners (file-backed secrets and SDS snapshots follow the model). It also
// derives the per-proxy port variants from the current model. Throwing refuses the change: the watcher keeps the last good
// mesh, and nothing of the new one was published.
import type { SnapshotPublisher } from '../cache/publisher';
import type { Snapshot } from '../cache/snapshot';
import type { MeshModel } from '../model/types';
import type { EndpointCertificates } from '../pki';
import { spiffeIdOf } from '../identity/endpoint-id';
import { formatError } from '../spec/errors';
import { buildSnapshot, translateMesh, type MeshTranslation, type TranslateOptions } from '../translate';
import type { MeshdMetrics } from '../admin/metrics';
import type { PortOverrides } from './port-overrides';
import { logger } from '../log';

const log = logger('meshd');

export interface MeshApplierParts {
  publisher: SnapshotPublisher;
  certificates: EndpointCertificates;
  metrics: MeshdMetrics;
  trustDomain: string;
  translate: TranslateOptions;
}

export type AppliedListener = (model: MeshModel, revision: number, translation: MeshTranslation) => void;

export class MeshApplier {
  private current: { model: MeshModel; translation: MeshTranslation; revision: number } | undefined;
  private readonly listeners: AppliedListener[] = [];

  constructor(private readonly parts: MeshApplierParts) {}

  /** Calls `listener` after each applied change, in the order listeners were added. */
  onApplied(listener: AppliedListener): void {
    this.listeners.push(listener);
  }

  /** The model being served, if a valid one has been applied. */
  get model(): MeshModel | undefined {
    return this.current?.model;
  }

  /** Translates, checks and publishes a valid model; throws (refusing the change) on any problem. */
  apply(model: MeshModel, revision: number): void {
    const { publisher, certificates, metrics } = this.parts;
    const translation = translateMesh(model, this.parts.translate, this.current?.translation);
    const before = this.current;
    const previous = before?.model;
    // The model first: publishing notifies watchers that derive from it (per-proxy port variants).
    // The publisher checks the whole batch before it publishes any of it, so on a refusal nothing
    // was served from the new model and the old one is current again.
    this.current = { model, translation, revision };
    try {
      publisher.publish(translation.rebuilt.map((id) => [id, translation.snapshots.get(id)!] as const));
    } catch (err) {
      this.current = before;
      throw err;
    }
    for (const [id, removed] of Object.entries(previous?.endpoints ?? {})) {
      if (id in model.endpoints) continue;
      // New connections for it get nothing; proxies already connected keep what they have, and
      // its leaf is no longer renewed (leaves go only to endpoints of the current mesh).
      publisher.clear(id);
      certificates.remove(spiffeIdOf(this.parts.trustDomain, { mesh: removed.meshName, kind: removed.kind, name: removed.name }));
      log.warn({ endpoint: id }, 'endpoint removed from the mesh; its connected proxies keep their last configuration and certificate, which is no longer renewed');
    }
    metrics.configReload('applied');
    log.info({ revision, rebuilt: translation.rebuilt.length, reused: translation.reused.length }, 'published snapshots');
    // Accepted but not honoured (e.g. Cloud Map attributes): said on every apply, and in /status.
    for (const warning of model.warnings) log.warn({ revision }, `mesh warning: ${formatError(warning)}`);
    for (const listener of this.listeners) listener(model, revision, translation);
  }

  /**
   * Translates the served model again after something outside it changed (node credentials):
   * only the endpoints whose translation inputs changed are rebuilt and pushed.
   */
  reapply(): void {
    if (this.current) this.apply(this.current.model, this.current.revision);
  }

  /** The endpoint's snapshot with its own listeners on the ports its proxy asked for. */
  translateVariant(endpointKey: string, overrides: PortOverrides): Snapshot | undefined {
    const model = this.model;
    const endpoint = model?.endpoints[endpointKey];
    if (!model || !endpoint) return undefined;
    const variant: MeshModel = { ...model, endpoints: { ...model.endpoints, [endpointKey]: { ...endpoint, meshd: { ...endpoint.meshd, ...overrides } } } };
    return buildSnapshot(variant, endpointKey, this.parts.translate);
  }
}
