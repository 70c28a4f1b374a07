// What the admin server reads from a running meshd and the actions it may take: mesh status,
// secret status (public parts only), config-dump secret views, readiness and rotation. Kept
// apart from the pipeline wiring so that stays about the pipeline.
import type { EndpointCertificates, RolloverStatus, TrustAuthority } from '../pki';
import { HttpError } from '../admin/server';
import type { StreamRegistry } from '../admin/stream-registry';
import type { AdminActions, MeshStatus, ReadinessCheck, SecretStatus, SecretView } from '../admin/types';
import type { SecretCache } from '../sds/secret-cache';
import type { NodeCredentials } from '../auth/node-credential';
import type { MeshSource } from './mesh-source';
import { endpointOfSpiffeId, parseNodeId, spiffeIdOf, trustDomainId, type MeshEndpointId } from '../identity/endpoint-id';
import { TypeUrl } from '../xds/type-urls';
import { formatError } from '../spec/errors';
import { SharedStateConflictError } from './shared-state';

export interface OperationsSources {
  /** The mesh source: the watched spec directory, or a store. */
  watcher: MeshSource;
  certificates: EndpointCertificates;
  authority: TrustAuthority;
  secrets: SecretCache;
  credentials: NodeCredentials;
  registry: StreamRegistry;
  trustDomain: string;
  listening: () => boolean;
  /** How long after the last leaf of the previous CA moves a rollover finishes by itself. */
  rolloverGraceMs: number;
  /** Starts a rollover for every replica sharing the CA (etcd); absent: the authority's own. */
  startRollover?: () => Promise<RolloverStatus>;
}

export function meshStatus(sources: OperationsSources): MeshStatus {
  const current = sources.watcher.current;
  const status: MeshStatus = { revision: current ? String(current.revision) : null };
  if (current) status.appliedAt = current.appliedAt.toISOString();
  if (current && current.model.warnings.length > 0) status.warnings = current.model.warnings.map(formatError);
  const refused = sources.watcher.lastRefused;
  if (refused) status.lastRefused = { at: refused.refusedAt.toISOString(), errors: refused.errors.map(formatError) };
  return status;
}

/** Every leaf and the trust bundle, with which proxies hold which SDS version. */
export function secretStatus(sources: OperationsSources): SecretStatus[] {
  const acked = sources.registry.ackedVersions(TypeUrl.Secret);
  const out: SecretStatus[] = [];
  for (const spiffeId of sources.certificates.endpointIds().sort()) {
    const leaf = sources.certificates.current(spiffeId);
    if (!leaf) continue;
    const endpointKey = endpointOfSpiffeId(sources.trustDomain, spiffeId)?.key ?? spiffeId;
    const servedSet = sources.secrets.snapshotOf(endpointKey)?.get(TypeUrl.Secret);
    const served = servedSet?.version ?? '';
    out.push({
      name: leaf.spiffeId, // the served name: the identity the spec assigns, else the default
      kind: 'certificate',
      version: served,
      serial: leaf.serial,
      sans: [...leaf.sans.uris, ...leaf.sans.dnsNames],
      notAfter: leaf.notAfter.toISOString(),
      // A holder's version covers the secrets it asked for, so it is current when it matches
      // the served version of that selection.
      holders: acked.filter((a) => a.endpoint === endpointKey).map((a) => ({ nodeId: a.nodeId, version: a.version, current: servedSet?.versionFor(a.selection) === a.version })),
    });
  }
  const bundle = sources.certificates.trustBundle();
  out.push({
    name: trustDomainId(sources.trustDomain),
    kind: 'trust',
    version: bundle.version,
    serial: bundle.caSerials[0] ?? '',
    sans: [],
    notAfter: '',
    holders: acked.map((a) => ({ nodeId: a.nodeId, version: a.version, current: sources.secrets.snapshotOf(a.endpoint)?.get(TypeUrl.Secret)?.versionFor(a.selection) === a.version })),
  });
  return out;
}

/** A node's secrets as /config_dump shows them: certificates and bundles, never a key. */
export function secretViews(sources: OperationsSources, endpoint: MeshEndpointId): SecretView[] {
  const views: SecretView[] = [];
  const leaf = sources.certificates.current(spiffeIdOf(sources.trustDomain, endpoint));
  if (leaf) views.push({ name: leaf.spiffeId, version: leaf.version, certificateChainPem: leaf.certificateChainPem, details: { serial: leaf.serial, notAfter: leaf.notAfter.toISOString() } });
  const bundle = sources.certificates.trustBundle();
  views.push({ name: trustDomainId(sources.trustDomain), version: bundle.version, trustedCaPem: bundle.trustedCaPem, details: { caSerials: bundle.caSerials } });
  return views;
}

export function readiness(sources: OperationsSources): ReadinessCheck[] {
  return [
    { name: 'specs loaded', check: () => (sources.watcher.current ? true : 'no valid mesh has been loaded yet') },
    // The last good mesh is still served, but changes cannot arrive: not ready until the specs return.
    { name: 'specs readable', check: () => (sources.watcher.unreadable === undefined ? true : `${sources.watcher.unreadable}; still serving the last good mesh`) },
    { name: 'CA ready', check: () => (sources.certificates.trustBundle().caSerials.length > 0 ? true : 'no CA in the trust bundle') },
    { name: 'listeners bound', check: () => (sources.listening() ? true : 'ADS/SDS are not listening yet') },
  ];
}

/** Why a second rollover cannot start yet, and when the running one ends (it needs no command). */
function rolloverInProgress(status: RolloverStatus, graceMs: number): HttpError {
  const untracked = status.untrackedLeavesValidUntil
    ? `, and leaves issued before meshd restarted may depend on it until ${status.untrackedLeavesValidUntil.toISOString()}`
    : '';
  return new HttpError(409, `a CA rollover is already in progress: CA ${status.previousCaId} is still trusted beside CA ${status.currentCaId}; `
    + `it finishes by itself ${Math.round(graceMs / 1000)} s after no leaf depends on CA ${status.previousCaId} (${status.dependentLeaves} still do${untracked}); `
    + 'start the next rollover after that');
}

export function actions(sources: OperationsSources): AdminActions {
  return {
    async rotate(nodeKey?: string) {
      const model = sources.watcher.current?.model;
      if (nodeKey && model && !model.endpoints[nodeKey]) {
        const known = Object.keys(model.endpoints).sort();
        const listed = known.length > 10 ? `${known.slice(0, 10).join(', ')}, … (${known.length} in all)` : known.join(', ');
        throw new HttpError(404, `${nodeKey} is not an endpoint of the current mesh; nothing was rotated (endpoints: ${listed || 'none'})`);
      }
      const id = nodeKey ? spiffeIdOf(sources.trustDomain, parseNodeId(nodeKey)) : undefined;
      if (id && !sources.certificates.current(id)) return { message: `no certificate has been issued for ${nodeKey} yet (none of its proxies has asked for one); nothing to rotate`, rotated: 0 };
      const leaves = await sources.certificates.rotate(id);
      return { message: `re-issued ${leaves.length} leaf certificate(s)`, rotated: leaves.length, serials: leaves.map((l) => l.serial) };
    },
    async rotateCredentialKey(overlapMs: number) {
      const rotated = await sources.credentials.rotateKey(overlapMs);
      return {
        message: `node credential key rotated: new credentials are made with key ${rotated.key}; credentials made with key ${rotated.retired} are accepted until `
          + `${rotated.acceptedUntil.toISOString()}: print every node's bootstrap again (\`meshd bootstrap\`) before then`,
        key: rotated.key, retired: rotated.retired, acceptedUntil: rotated.acceptedUntil.toISOString(),
      };
    },
    async revokeCredential(nodeKey: string) {
      const before = sources.registry.proxies().filter((proxy) => proxy.endpoint === nodeKey).length;
      const revocation = await sources.credentials.revoke(nodeKey);
      return {
        message: `revoked the credentials of ${nodeKey}: ${before} stream(s) ended, earlier bootstraps are refused; print its bootstrap again (\`meshd bootstrap --node ${nodeKey}\`) to give it a new one`,
        endpoint: nodeKey, generation: revocation.generation, revokedAt: revocation.revokedAt.toISOString(), streamsEnded: before,
      };
    },
    async caRollover() {
      const before = sources.authority.rolloverStatus();
      if (before.inProgress) throw rolloverInProgress(before, sources.rolloverGraceMs);
      let status: RolloverStatus;
      try {
        status = await (sources.startRollover ? sources.startRollover() : sources.authority.startRollover());
      } catch (err) {
        // Another replica started one first: this one follows it, and says so.
        if (err instanceof SharedStateConflictError) throw new HttpError(409, err.message);
        // Another request started one between the check and this start.
        const now = sources.authority.rolloverStatus();
        if (now.inProgress && now.previousCaId !== undefined && now.currentCaId !== before.currentCaId) throw rolloverInProgress(now, sources.rolloverGraceMs);
        throw err;
      }
      return { message: `CA rollover started: new leaves come from CA ${status.currentCaId}; CA ${status.previousCaId} leaves the bundle by itself ${Math.round(sources.rolloverGraceMs / 1000)} s after no leaf depends on it`, ...status };
    },
  };
}
