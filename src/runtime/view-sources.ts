// What the mesh view (/ui) reads from a running meshd, and the events that tell it to look again:
// specs applied or refused (the watcher and applier), streams opening, closing, ACKing and NACKing
// (the stream registry), leaves issued (endpoint certificates), the trust bundle and rollovers
// (the CA). Public facts only: serials, SANs, validity and the issuing CA, never a key.
import type { MeshViewSources } from '../admin/mesh-view';
import type { ViewChanges } from '../admin/view-changes';
import { parseNodeId, spiffeIdOf } from '../identity/endpoint-id';
import type { EndpointCertificates, TrustAuthority } from '../pki';
import type { MeshApplier } from './mesh-applier';
import { meshStatus, type OperationsSources } from './operations';

export function meshViewSources(sources: OperationsSources, applier: MeshApplier): MeshViewSources {
  const { certificates, authority, trustDomain } = sources;
  return {
    model: () => applier.model,
    mesh: () => meshStatus(sources),
    proxies: () => sources.registry.proxies(),
    certificate: (endpointId) => {
      const leaf = certificates.current(spiffeIdOf(trustDomain, parseNodeId(endpointId)));
      if (!leaf) return undefined;
      return {
        serial: leaf.serial,
        sans: [...leaf.sans.uris, ...leaf.sans.dnsNames],
        notBefore: leaf.notBefore.toISOString(),
        notAfter: leaf.notAfter.toISOString(),
        caId: leaf.caId,
      };
    },
    trustBundle: () => {
      const bundle = certificates.trustBundle();
      return { version: bundle.version, caSerials: [...bundle.caSerials] };
    },
    rollover: () => {
      const status = authority.rolloverStatus();
      const leaves = certificates.endpointIds().map((id) => certificates.current(id)).filter((leaf) => leaf !== undefined);
      return {
        inProgress: status.inProgress,
        currentCaId: status.currentCaId,
        ...(status.previousCaId !== undefined ? { previousCaId: status.previousCaId } : {}),
        leaves: leaves.length,
        moved: leaves.filter((leaf) => leaf.caId === status.currentCaId).length,
      };
    },
  };
}

/** Raises the view's change signal from every part whose events change what it shows. */
export function signalViewChanges(changes: ViewChanges, parts: { applier: MeshApplier; registry: OperationsSources['registry']; certificates: EndpointCertificates; authority: TrustAuthority }): void {
  parts.applier.onApplied(() => changes.signal('spec'));
  parts.registry.onChange(() => changes.signal('proxy'));
  parts.certificates.on('certificate', () => changes.signal('certificate'));
  parts.certificates.on('trustBundle', () => changes.signal('trust-bundle'));
  parts.authority.on('rolloverStarted', () => changes.signal('rollover'));
  parts.authority.on('rolloverFinished', () => changes.signal('rollover'));
}
