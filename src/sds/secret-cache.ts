// Per-node secret snapshots for SDS. Each node's snapshot holds exactly the secrets that node is
// entitled to, so the stream layer cannot send anything else: its own leaf (as `default`, Istio's
// name, and as its SPIFFE ID, SPIRE's), the CA bundle (`ROOTCA` and `spiffe://<trust-domain>`),
// and the file-backed secrets its mesh configuration references. A leaf is issued the first time
// its node asks; rotations and bundle changes rebuild only the snapshots they touch.
import type { EndpointCertificates, IssuedLeaf, MeshEndpoint, TlsCertificateMaterial, TrustBundleMaterial } from '../pki';
import type { FileSecretSource } from '../pki';
import { EncodedResource, encodeResource } from '../cache/resource';
import { ResourceSet, Snapshot } from '../cache/snapshot';
import type { ConfigWatcher, SnapshotListener } from '../cache/snapshot-cache';
import { tlsCertificateSecret, validationContextSecret } from '../envoy/secret';
import { parseNodeId, type MeshEndpointId } from '../xds/node-id';
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
}

export interface SecretCacheOptions {
  certificates: EndpointCertificates;
  trustDomain: string;
  /** The endpoint's secret policy from the current mesh model; undefined for an unknown endpoint. */
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
    options.certificates.on('certificate', (change) => this.refresh(this.keyOfSpiffe(change.endpointId)));
    options.certificates.on('trustBundle', () => this.refreshAll());
  }

  /** The names a node may receive. */
  entitledNames(endpoint: MeshEndpointId): Set<string> {
    const names = new Set([ISTIO_CERTIFICATE_NAME, this.spiffeIdOf(endpoint), ISTIO_BUNDLE_NAME, this.trustDomainId()]);
    for (const name of this.options.policyOf(endpoint.key)?.fileSecrets ?? []) names.add(name);
    return names;
  }

  /** For the stream layer: which requested names this node is refused. */
  readonly refusedNames = (endpoint: MeshEndpointId, _typeUrl: string, names: readonly string[]): string[] => {
    const entitled = this.entitledNames(endpoint);
    return names.filter((name) => !entitled.has(name));
  };

  watch(nodeKey: string, listener: SnapshotListener): () => void {
    clearTimeout(this.forgetTimers.get(nodeKey));
    this.forgetTimers.delete(nodeKey);
    let node = this.nodes.get(nodeKey);
    if (!node) {
      node = { endpoint: parseNodeId(nodeKey), listeners: new Set(), snapshot: undefined, issuing: false };
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
        this.options.certificates.remove(this.spiffeIdOf(watched.endpoint));
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
    const leaf = this.options.certificates.current(this.spiffeIdOf(node.endpoint));
    if (!leaf) {
      this.issue(node);
      return; // the certificate event that follows the issuance refreshes this node
    }
    const snapshot = new Snapshot([new ResourceSet(TypeUrl.Secret, [...this.leafResources(node, leaf), ...this.sharedBundle(), ...this.fileResources(node.endpoint)])]);
    if (node.snapshot && node.snapshot.get(TypeUrl.Secret)!.version === snapshot.get(TypeUrl.Secret)!.version) return;
    node.snapshot = snapshot;
    for (const listener of [...node.listeners]) listener(snapshot);
  }

  private issue(node: WatchedNode): void {
    if (node.issuing) return;
    node.issuing = true;
    const policy = this.options.policyOf(node.endpoint.key);
    const endpoint: MeshEndpoint = { mesh: node.endpoint.mesh, kind: node.endpoint.kind, name: node.endpoint.name, dnsNames: [...(policy?.dnsNames ?? [])] };
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
        resources: [ISTIO_CERTIFICATE_NAME, leaf.spiffeId].map((name) => encodeResource(TypeUrl.Secret, name, tlsCertificateSecret(name, leaf))),
      };
    }
    return node.leaf.resources;
  }

  private sharedBundle(): EncodedResource[] {
    const bundle: TrustBundleMaterial = this.options.certificates.trustBundle();
    if (this.bundleResources?.version !== bundle.version) {
      this.bundleResources = {
        version: bundle.version,
        resources: [ISTIO_BUNDLE_NAME, this.trustDomainId()].map((name) => encodeResource(TypeUrl.Secret, name, validationContextSecret(name, bundle))),
      };
    }
    return this.bundleResources.resources;
  }

  private fileResources(endpoint: MeshEndpointId): EncodedResource[] {
    const resources: EncodedResource[] = [];
    for (const name of this.options.policyOf(endpoint.key)?.fileSecrets ?? []) {
      const source = this.options.fileSecret(endpoint.mesh, name);
      const certificate: TlsCertificateMaterial | undefined = source?.certificate;
      if (certificate) resources.push(encodeResource(TypeUrl.Secret, name, tlsCertificateSecret(name, certificate)));
      else if (source?.trustBundle) resources.push(encodeResource(TypeUrl.Secret, name, validationContextSecret(name, source.trustBundle)));
    }
    return resources;
  }

  private spiffeIdOf(endpoint: MeshEndpointId): string {
    return `${this.trustDomainId()}/mesh/${endpoint.mesh}/${endpoint.kind}/${endpoint.name}`;
  }

  private trustDomainId(): string {
    return `spiffe://${this.options.trustDomain}`;
  }

  private keyOfSpiffe(spiffeId: string): string | undefined {
    const prefix = `${this.trustDomainId()}/`;
    return spiffeId.startsWith(prefix) ? spiffeId.slice(prefix.length) : undefined;
  }
}
