// Per-proxy listener ports. `meshd bootstrap --ingress-port/--egress-port` writes them into the
// proxy's node.metadata; such a proxy is served a variant of its endpoint's snapshot whose own
// listeners use those ports. Everything else (clusters, routes, what callers target) stays as the
// spec says: callers still send to the spec's ingress port, so an ingress override is for hosts
// that redirect that port (iptables) or run a second proxy of the endpoint beside the first.
import * as grpc from '@grpc/grpc-js';
import type { Snapshot } from '../cache/snapshot';
import type { ConfigWatcher, SnapshotListener } from '../cache/snapshot-cache';
import { PublishRefusedError, type SnapshotPublisher } from '../cache/publisher';
import type { NodeIdentifier } from '../server/xds-stream';
import { StatusError } from '../xds/status-error';
import { logger } from '../log';

const log = logger('port-overrides');

export const INGRESS_PORT_METADATA = 'meshd.ingress_port';
export const EGRESS_PORT_METADATA = 'meshd.egress_port';

export interface PortOverrides {
  ingressPort?: number;
  egressPort?: number;
}

function port(value: unknown, key: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new StatusError(grpc.status.INVALID_ARGUMENT, `node.metadata["${key}"] = ${JSON.stringify(value)}: must be a port 1-65535`);
  return n;
}

export function portOverridesOf(metadata: Record<string, unknown> | undefined): PortOverrides | undefined {
  const ingressPort = port(metadata?.[INGRESS_PORT_METADATA], INGRESS_PORT_METADATA);
  const egressPort = port(metadata?.[EGRESS_PORT_METADATA], EGRESS_PORT_METADATA);
  if (ingressPort === undefined && egressPort === undefined) return undefined;
  return { ...(ingressPort ? { ingressPort } : {}), ...(egressPort ? { egressPort } : {}) };
}

const SEPARATOR = '?';

/** The snapshot key of a variant: `mesh/m/virtualNode/n?ingress=15100&egress=15101`. */
export function variantKey(baseKey: string, overrides: PortOverrides): string {
  const params = new URLSearchParams();
  if (overrides.ingressPort) params.set('ingress', String(overrides.ingressPort));
  if (overrides.egressPort) params.set('egress', String(overrides.egressPort));
  return `${baseKey}${SEPARATOR}${params.toString()}`;
}

function parseVariantKey(key: string): { baseKey: string; overrides: PortOverrides } | undefined {
  const at = key.indexOf(SEPARATOR);
  if (at < 0) return undefined;
  const params = new URLSearchParams(key.slice(at + 1));
  const overrides: PortOverrides = {};
  if (params.get('ingress')) overrides.ingressPort = Number(params.get('ingress'));
  if (params.get('egress')) overrides.egressPort = Number(params.get('egress'));
  return { baseKey: key.slice(0, at), overrides };
}

/** Wraps an identifier so a proxy that asks for its own ports is keyed to its variant. */
export function withPortOverrides(identify: NodeIdentifier): NodeIdentifier {
  return (node, metadata) => {
    const endpoint = identify(node, metadata);
    const overrides = portOverridesOf(node.metadata);
    return overrides ? { ...endpoint, key: variantKey(endpoint.key, overrides) } : endpoint;
  };
}

/**
 * The ADS source: base keys come from the publisher as they are; variant keys are derived from
 * their base snapshot whenever it changes (one translation per base snapshot and variant), and
 * pass the same publishing checks as every other snapshot. A variant that fails them is refused:
 * its proxies keep the last good variant.
 */
export class PortVariantWatcher implements ConfigWatcher {
  private readonly derived = new Map<string, { base: Snapshot; variant: Snapshot | undefined }>();

  constructor(
    private readonly publisher: SnapshotPublisher,
    private readonly translateVariant: (baseKey: string, overrides: PortOverrides) => Snapshot | undefined,
  ) {}

  watch(key: string, listener: SnapshotListener): () => void {
    const variant = parseVariantKey(key);
    if (!variant) return this.publisher.watch(key, listener);
    return this.publisher.watch(variant.baseKey, (base) => {
      let entry = this.derived.get(key);
      if (entry?.base !== base) {
        entry = { base, variant: this.derive(key, variant.baseKey, variant.overrides) ?? entry?.variant };
        this.derived.set(key, entry);
      }
      if (entry.variant) listener(entry.variant);
    });
  }

  private derive(key: string, baseKey: string, overrides: PortOverrides): Snapshot | undefined {
    const snapshot = this.translateVariant(baseKey, overrides);
    if (!snapshot) return undefined;
    try {
      return this.publisher.check(key, snapshot);
    } catch (err) {
      if (!(err instanceof PublishRefusedError)) throw err;
      log.error({ node: key, problems: err.problems }, 'refused the per-proxy port variant of this endpoint; its proxies keep their last good configuration');
      return undefined;
    }
  }
}
