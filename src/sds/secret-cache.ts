// Per-node secret snapshots for SDS. Each node's snapshot holds exactly the secrets that node is
// entitled to, so the stream layer cannot send anything else: its own leaf (as `default`, Istio's
// name, and as its SPIFFE ID, SPIRE's: the default `spiffe://<td>/mesh/<mesh>/<kind>/<name>` or
// the one its spec assigns), the CA bundle (`ROOTCA` and `spiffe://<trust-domain>`), and the
// file-backed secrets its mesh configuration references. A leaf is issued the first time its node
// asks, and only for an endpoint of the current mesh; rotations and bundle changes rebuild only
// the snapshots they touch.
import type { EndpointCertificates, IssuedLeaf, MeshEndpoint, TlsCertificateMaterial, TrustBundleMaterial } from '../pki';
import type { FileSecretSource } from '../pki';
import { contentVersion, EncodedResource, encodeResource } from '../cache/resource';
import { ResourceSet, Snapshot } from '../cache/snapshot';
import type { ConfigWatcher, SnapshotListener } from '../cache/snapshot-cache';
import { validationContextSecret } from '../envoy/secret';
import { buildTlsCertificateSecrets, tlsCertificateSecretSizes } from './tls-certificate-secret';
import { anyFieldSize, SotwField } from '../xds/wire';
import { endpointOfSpiffeId, parseNodeId, spiffeIdOf, trustDomainId, tryParseNodeId, type MeshEndpointId } from '../identity/endpoint-id';
import { TypeUrl } from '../xds/type-urls';
import { logger } from '../log';

const log = logger('sds-secrets');

/** Istio's names: the proxy's own certificate and the trust bundle. */
export const ISTIO_CERTIFICATE_NAME = 'default';
export const ISTIO_BUNDLE_NAME = 'ROOTCA';

/** What the mesh model says about one endpoint's secrets. */
export interface EndpointSecretPolicy {
  /** DNS names for its leaf (its service-discovery names). */
  dnsNames: readonly string[];
  /** File-backed secrets (by secret name, within its mesh) that its configuration references. */
  fileSecrets: readonly string[];
  /** The SPIFFE ID its spec assigns it (SPIRE style); absent: its default identity. */
  spiffeId?: string;
}

export interface SecretCacheOptions {
  certificates: EndpointCertificates;
  trustDomain: string;
  /**
   * The endpoint's secret policy from the current mesh model; undefined for an endpoint that is
   * not in it, which is then issued nothing.
   */
  policyOf: (endpointKey: string) => EndpointSecretPolicy | undefined;
  /** The file-backed secret source for `<mesh>/<secretName>`, if one is configured. */
  fileSecret: (mesh: string, secretName: string) => FileSecretSource | undefined;
  /**
   * Forget (stop renewing) an endpoint's leaf this long after its last SDS subscriber left
   * (default 15 min), so proxies that are gone for good cost nothing and brief reconnects cost no
   * re-issue.
   */
  forgetAfterMs?: number;
}

interface WatchedNode {
  endpoint: MeshEndpointId;
  /** Its default SPIFFE ID (keyIdOf), built once: every refresh looks its leaf up by it. */
  keyId: string;
  listeners: Set<SnapshotListener>;
  snapshot: Snapshot | undefined;
  issuing: boolean;
  /** The node's leaf secrets, encoded once per leaf. */
  leaf?: { version: string; resources: EncodedResource[] };
}

export class SecretCache implements ConfigWatcher {
  private readonly nodes = new Map<string, WatchedNode>();
  private readonly forgetTimers = new Map<string, NodeJS.Timeout>();
  /** Bundle secrets encoded once per bundle version and shared by every node. */
  private bundleResources: { version: string; resources: EncodedResource[] } | undefined;

  constructor(private readonly options: SecretCacheOptions) {
    options.certificates.on('certificate', (change) => this.refresh(endpointOfSpiffeId(this.options.trustDomain, change.endpointId)?.key));
    options.certificates.on('trustBundle', () => this.refreshAll());
  }

  /** True when the node is an endpoint of the current mesh, the only nodes that get secrets. */
  serves(nodeKey: string): boolean {
    return this.options.policyOf(nodeKey) !== undefined;
  }

  /** The names a node may receive (none for a node that is not in the current mesh). */
  entitledNames(nodeKey: string): Set<string> {
    const endpoint = tryParseNodeId(nodeKey);
    const policy = endpoint && this.options.policyOf(endpoint.key);
    if (!endpoint || !policy) return new Set();
    const names = new Set([ISTIO_CERTIFICATE_NAME, this.identityOf(endpoint, policy), ISTIO_BUNDLE_NAME, trustDomainId(this.options.trustDomain)]);
    for (const name of policy.fileSecrets) names.add(name);
    return names;
  }

  /**
   * For the stream layer: which requested names this node is refused. Asked on every request,
   * ACKs included (10,000 of them after a rotation), so it checks the names where entitledNames
   * would build a set.
   */
  readonly refusedNames = (nodeKey: string, _typeUrl: string, names: readonly string[]): string[] => {
    const endpoint = this.nodes.get(nodeKey)?.endpoint ?? tryParseNodeId(nodeKey);
    const policy = endpoint && this.options.policyOf(endpoint.key);
    if (!endpoint || !policy) return [...names];
    return names.filter((name) => !this.entitles(endpoint, policy, name));
  };

  /** Whether one name is among entitledNames (the same rule, without building the set). */
  private entitles(endpoint: MeshEndpointId, policy: EndpointSecretPolicy, name: string): boolean {
    return name === ISTIO_CERTIFICATE_NAME || name === ISTIO_BUNDLE_NAME || name === trustDomainId(this.options.trustDomain)
      || name === this.identityOf(endpoint, policy) || policy.fileSecrets.includes(name);
  }

  watch(nodeKey: string, listener: SnapshotListener): () => void {
    clearTimeout(this.forgetTimers.get(nodeKey));
    this.forgetTimers.delete(nodeKey);
    let node = this.nodes.get(nodeKey);
    if (!node) {
      const endpoint = parseNodeId(nodeKey);
      node = { endpoint, keyId: this.keyIdOf(endpoint), listeners: new Set(), snapshot: undefined, issuing: false };
      this.nodes.set(nodeKey, node);
    }
    node.listeners.add(listener);
    if (node.snapshot) listener(node.snapshot);
    else this.refresh(nodeKey);
    return () => {
      const watched = this.nodes.get(nodeKey);
      if (!watched) return;
      watched.listeners.delete(listener);
      if (watched.listeners.size > 0) return;
      this.nodes.delete(nodeKey);
      const timer = setTimeout(() => {
        this.forgetTimers.delete(nodeKey);
        if (this.nodes.has(nodeKey)) return;
        this.options.certificates.remove(watched.keyId);
        log.info({ node: nodeKey }, 'no SDS subscriber for a while: stopped renewing this endpoint\'s certificate');
      }, this.options.forgetAfterMs ?? 15 * 60_000);
      timer.unref();
      this.forgetTimers.set(nodeKey, timer);
    };
  }

  /** The current snapshot of a watched node (for status and config dumps). */
  snapshotOf(nodeKey: string): Snapshot | undefined {
    return this.nodes.get(nodeKey)?.snapshot;
  }

  /** Stops every pending forget timer (shutdown). */
  close(): void {
    for (const timer of this.forgetTimers.values()) clearTimeout(timer);
    this.forgetTimers.clear();
  }

  /** Rebuilds every watched node's snapshot (the mesh model or a file secret changed). */
  refreshAll(): void {
    for (const key of this.nodes.keys()) this.refresh(key);
  }

  /** Rebuilds one node's snapshot and pushes it if it changed. */
  refresh(nodeKey: string | undefined): void {
    if (!nodeKey) return;
    const node = this.nodes.get(nodeKey);
    if (!node) return;
    const leaf = this.options.certificates.current(node.keyId);
    const policy = this.options.policyOf(nodeKey);
    if (!leaf || (policy && !this.certifies(leaf, node.endpoint, policy))) {
      // Until the new leaf is there, the node keeps its last snapshot: a leaf whose identity or
      // DNS names the spec changed is never served under the new names.
      this.issue(node);
      return; // the certificate event that follows the issuance refreshes this node
    }
    const resources = [...this.leafResources(node, leaf), ...this.sharedBundle(), ...this.fileResources(node.endpoint, policy)];
    // Unchanged (a refresh after an issuance the certificate event already pushed): the same
    // names at the same versions make the same set version, without building and hashing a set.
    const current = node.snapshot?.get(TypeUrl.Secret);
    if (current && current.resources.size === resources.length && resources.every((r) => current.resources.get(r.name)?.version === r.version)) return;
    const snapshot = new Snapshot([new ResourceSet(TypeUrl.Secret, resources)]);
    node.snapshot = snapshot;
    for (const listener of [...node.listeners]) listener(snapshot);
  }

  private issue(node: WatchedNode): void {
    if (node.issuing) return;
    node.issuing = true;
    const policy = this.options.policyOf(node.endpoint.key);
    if (!policy) {
      node.issuing = false;
      log.warn({ node: node.endpoint.key }, 'not an endpoint of the current mesh: no certificate issued for it');
      return;
    }
    const endpoint: MeshEndpoint = {
      mesh: node.endpoint.mesh, kind: node.endpoint.kind, name: node.endpoint.name, dnsNames: [...policy.dnsNames],
      ...(policy.spiffeId !== undefined ? { spiffeId: policy.spiffeId } : {}),
    };
    this.options.certificates.get(endpoint).then(
      () => {
        node.issuing = false;
        this.refresh(node.endpoint.key);
      },
      (err: Error) => {
        node.issuing = false;
        log.error({ node: node.endpoint.key, err: err.message }, 'could not issue a certificate for this node; its SDS requests wait');
      },
    );
  }

  private leafResources(node: WatchedNode, leaf: IssuedLeaf): EncodedResource[] {
    if (node.leaf?.version !== leaf.version) {
      node.leaf = {
        version: leaf.version,
        resources: tlsCertificateResources([ISTIO_CERTIFICATE_NAME, leaf.spiffeId], leaf),
      };
    }
    return node.leaf.resources;
  }

  private sharedBundle(): EncodedResource[] {
    const bundle: TrustBundleMaterial = this.options.certificates.trustBundle();
    if (this.bundleResources?.version !== bundle.version) {
      this.bundleResources = {
        version: bundle.version,
        resources: [ISTIO_BUNDLE_NAME, trustDomainId(this.options.trustDomain)].map((name) => encodeResource(TypeUrl.Secret, name, validationContextSecret(name, bundle))),
      };
    }
    return this.bundleResources.resources;
  }

  private fileResources(endpoint: MeshEndpointId, policy: EndpointSecretPolicy | undefined): EncodedResource[] {
    const resources: EncodedResource[] = [];
    for (const name of policy?.fileSecrets ?? []) {
      const source = this.options.fileSecret(endpoint.mesh, name);
      const certificate: TlsCertificateMaterial | undefined = source?.certificate;
      if (certificate) resources.push(...tlsCertificateResources([name], certificate));
      else if (source?.trustBundle) resources.push(encodeResource(TypeUrl.Secret, name, validationContextSecret(name, source.trustBundle)));
    }
    return resources;
  }

  /** The endpoint's default SPIFFE ID: the key its leaf is kept under in EndpointCertificates. */
  private keyIdOf(endpoint: MeshEndpointId): string {
    return spiffeIdOf(this.options.trustDomain, endpoint);
  }

  /** The SPIFFE ID its leaf certifies and is served under: the assigned one, else the default. */
  private identityOf(endpoint: MeshEndpointId, policy: EndpointSecretPolicy): string {
    return policy.spiffeId ?? this.keyIdOf(endpoint);
  }

  /** True when `leaf` certifies what the policy says now (identity and DNS names). */
  private certifies(leaf: IssuedLeaf, endpoint: MeshEndpointId, policy: EndpointSecretPolicy): boolean {
    const dnsNames = leaf.sans.dnsNames;
    return leaf.spiffeId === this.identityOf(endpoint, policy)
      && dnsNames.length === policy.dnsNames.length && dnsNames.every((name, i) => name === policy.dnsNames[i]);
  }

}

/**
 * A certificate and key as Secret resources, one per name (hand-encoded: two per leaf issued),
 * written into one allocation of their own: a fresh ArrayBuffer is a few µs, twice per leaf.
 */
function tlsCertificateResources(names: readonly string[], material: TlsCertificateMaterial): EncodedResource[] {
  const sizes = tlsCertificateSecretSizes(names, material).map((size) => anyFieldSize(SotwField.resources, TypeUrl.Secret, size));
  const memory = Buffer.allocUnsafeSlow(sizes.reduce((sum, size) => sum + size, 0));
  let at = 0;
  return buildTlsCertificateSecrets(names, material, (name, bytes, i) =>
    new EncodedResource(TypeUrl.Secret, name, bytes, contentVersion(bytes), [], memory.subarray(at, at += sizes[i]!)));
}
