// One running meshd: the pipeline from spec files to streams, wired once.
//   specs (watched) -> model -> translation -> per-node snapshots -> ADS (TCP and/or Unix socket)
//   CA + watched files -> per-node secret snapshots -> SDS (Unix socket)
// Every stream checks the node's credential. A change that fails validation, translation or
// Envoy's own field constraints is refused whole; the last good snapshots keep being served.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { NodeCredentials, CREDENTIAL_HEADER } from '../auth/node-credential';
import { SnapshotCache } from '../cache/snapshot-cache';
import type { Snapshot } from '../cache/snapshot';
import type { MeshModel } from '../model/types';
import { EndpointCertificates, TrustAuthority } from '../pki';
import { SecretCache, type EndpointSecretPolicy } from '../sds/secret-cache';
import { startSdsServer } from '../sds/sds-server';
import { combineObservers, type StreamObserver } from '../server/observer';
import { ADS, CDS, EDS, LDS, RDS } from '../server/services';
import { formatListenAddress, parseListenAddress, XdsServer } from '../server/xds-server';
import type { NodeIdentifier } from '../server/xds-stream';
import { buildSnapshot, translateMesh, type MeshTranslation } from '../translate';
import { PortVariantWatcher, withPortOverrides, type PortOverrides } from './port-overrides';
import { validateResource, formatPgvViolations } from '../xds/pgv';
import { shortTypeName } from '../xds/type-urls';
import { FileSecrets } from './file-secrets';
import { MeshWatcher, type RefusedChange } from './mesh-watcher';
import { logger } from '../log';
import { formFromUserAgent, StreamRegistry } from '../admin/stream-registry';
import { parseNodeId } from '../xds/node-id';
import { MeshdMetrics } from '../admin/metrics';
import { AdminServer } from '../admin/server';
import { addCsdsService } from '../admin/csds';
import { parseXdsAddress } from '../xds/address';
import { actions, meshStatus, readiness, secretStatus, secretViews } from './operations';
import type * as grpc from '@grpc/grpc-js';
import { startAppMeshApi, type ApiServer, type ApiSettings } from '../api';
import { DirectoryStore } from '../store';

const log = logger('meshd');

export interface MeshdOptions {
  configDir: string;
  /** ADS listen addresses (`host:port`, `unix:/path`). */
  xds: readonly string[];
  sdsSocket: string;
  stateDir: string;
  trustDomain: string;
  /** Leaf certificate lifetime (default 24 h). */
  leafTtlMs?: number;
  /** Re-issue leaves after this fraction of their lifetime (default 0.5). */
  refreshFraction?: number;
  /** Extra observers of ADS and SDS streams (status, metrics). */
  observers?: readonly StreamObserver[];
  /** Extra gRPC services on the ADS server (CSDS). */
  extraServices?: (server: grpc.Server) => void;
  /** Called with each refused mesh change (metrics). */
  onRefused?: (change: RefusedChange) => void;
  /** Called after each applied mesh change. */
  onApplied?: (revision: number, translation: MeshTranslation) => void;
  /** Admin HTTP address (`host:port`); loopback unless `adminAllowPublic`. Absent: no admin server. */
  admin?: string;
  adminAllowPublic?: boolean;
  /** Bearer token for admin POST actions from non-loopback clients. */
  adminToken?: string;
  /** SDS socket file mode (default 0o600; 0o660 to share with the Envoy user's group). */
  sdsSocketMode?: number;
  /** Finish a CA rollover by itself this long after no leaf depends on the old CA (default 10 s). */
  rolloverGraceMs?: number;
  /** The App Mesh API (`--api`); its writes land in the spec directory, which the watcher applies. */
  api?: ApiSettings;
}

export class Meshd {
  readonly cache = new SnapshotCache();
  readonly credentials: NodeCredentials;
  readonly xdsServer: XdsServer;
  /** The form a node is served follows its spec (`meshd.proxyless`), else what it says it is. */
  readonly registry = new StreamRegistry({
    formOf: (node) => {
      const endpoint = this.model?.endpoints[parseNodeId(node.id).key];
      return endpoint ? (endpoint.meshd.proxyless ? 'grpc' : 'envoy') : formFromUserAgent(node);
    },
  });
  readonly metrics = new MeshdMetrics();
  /** ADS addresses actually bound (real ports when 0 was asked). */
  xdsAddresses: string[] = [];
  adminServer: AdminServer | undefined;
  apiServer: ApiServer | undefined;
  private listening = false;
  private model: MeshModel | undefined;
  private translation: MeshTranslation | undefined;
  private sdsServer: XdsServer | undefined;
  private constructor(
    readonly options: MeshdOptions,
    readonly authority: TrustAuthority,
    readonly certificates: EndpointCertificates,
    readonly secrets: SecretCache,
    readonly fileSecrets: FileSecrets,
    readonly watcher: MeshWatcher,
    credentials: NodeCredentials,
  ) {
    this.credentials = credentials;
    this.xdsServer = new XdsServer({
      services: [ADS, CDS, EDS, LDS, RDS],
      settings: {
        watcher: new PortVariantWatcher(this.cache, (key, overrides) => this.translateVariant(key, overrides)),
        identify: withPortOverrides(this.identify()),
        observer: this.observer(),
      },
      extraServices: (server) => {
        // With an admin token, CSDS (which shows every node's configuration) asks for it too.
        const token = options.adminToken;
        addCsdsService(server, {
          registry: this.registry,
          snapshots: this.cache,
          ...(token ? { authorize: (metadata: grpc.Metadata) => metadata.get('authorization')[0] === `Bearer ${token}` } : {}),
        });
        options.extraServices?.(server);
      },
    });
    certificates.on('certificate', (change) => {
      this.metrics.certificateIssued('leaf');
      if (change.previousSerial) this.metrics.certificateRotated('leaf');
    });
    authority.on('rolloverStarted', () => this.metrics.certificateRotated('ca'));
    this.metrics.setCertificateExpirySource(() => {
      let earliest: Date | undefined;
      for (const id of certificates.endpointIds()) {
        const notAfter = certificates.current(id)?.notAfter;
        if (notAfter && (!earliest || notAfter < earliest)) earliest = notAfter;
      }
      return earliest;
    });
  }

  private observer(): StreamObserver {
    return combineObservers([this.registry, this.metrics, ...(this.options.observers ?? [])]);
  }

  static async start(options: MeshdOptions): Promise<Meshd> {
    fs.mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
    const credentials = NodeCredentials.loadOrCreate(options.stateDir);
    const authority = await TrustAuthority.open({ stateDir: options.stateDir, trustDomain: options.trustDomain, autoFinishGraceMs: options.rolloverGraceMs ?? 10_000 });
    const certificates = new EndpointCertificates({
      authority,
      ...(options.leafTtlMs ? { ttlMs: options.leafTtlMs } : {}),
      ...(options.refreshFraction ? { refreshFraction: options.refreshFraction } : {}),
    });
    let meshd: Meshd | undefined;
    const secrets = new SecretCache({
      certificates,
      trustDomain: options.trustDomain,
      policyOf: (key) => meshd?.secretPolicyOf(key),
      fileSecret: (mesh, name) => meshd?.fileSecrets.get(mesh, name),
    });
    const fileSecrets = new FileSecrets(() => secrets.refreshAll(), (refusal) => meshd?.metrics.fileSecretRefused(refusal.reason));
    const watcher = new MeshWatcher({
      dir: options.configDir,
      trustDomain: options.trustDomain,
      apply: (model, revision) => meshd!.apply(model, revision),
      refused: (change) => {
        meshd?.metrics.configReload('refused');
        options.onRefused?.(change);
      },
    });
    meshd = new Meshd(options, authority, certificates, secrets, fileSecrets, watcher, credentials);
    try {
      await watcher.start();
      for (const text of options.xds) {
        const bound = await meshd.xdsServer.listen(parseListenAddress(text));
        meshd.xdsAddresses.push(formatListenAddress(bound));
        log.info({ address: formatListenAddress(bound) }, `ADS listening on ${formatListenAddress(bound)}`);
      }
      meshd.sdsServer = await startSdsServer({
        socketPath: options.sdsSocket,
        secrets,
        identify: meshd.identify(),
        observer: meshd.observer(),
        ...(options.sdsSocketMode ? { socketMode: options.sdsSocketMode, directoryMode: options.sdsSocketMode & 0o070 ? 0o750 : 0o700 } : {}),
      });
      log.info({ socket: options.sdsSocket }, `SDS listening on unix:${options.sdsSocket}`);
      meshd.listening = true;
      if (options.admin) await meshd.startAdmin(options.admin);
      if (options.api) await meshd.startApi(options.api);
    } catch (err) {
      await meshd.stop();
      throw err;
    }
    return meshd;
  }

  /** The current model, if a valid one has been applied. */
  get currentModel(): MeshModel | undefined {
    return this.model;
  }

  /** The snapshot a node is served now. */
  snapshotOf(nodeKey: string): Snapshot | undefined {
    return this.cache.getSnapshot(nodeKey);
  }

  private identify(): NodeIdentifier {
    return this.metrics.countingRefusals(this.credentials.identifier());
  }

  private async startAdmin(address: string): Promise<void> {
    const parsed = parseXdsAddress(address);
    if (parsed.kind !== 'tcp') throw new Error(`--admin ${address}: the admin server listens on HOST:PORT`);
    const sources = {
      watcher: this.watcher, certificates: this.certificates, authority: this.authority, secrets: this.secrets,
      registry: this.registry, trustDomain: this.options.trustDomain, listening: () => this.listening,
    };
    this.adminServer = new AdminServer({
      host: parsed.host,
      port: parsed.port,
      ...(this.options.adminAllowPublic ? { allowPublic: true } : {}),
      ...(this.options.adminToken ? { adminToken: this.options.adminToken } : {}),
      registry: this.registry,
      metrics: this.metrics,
      snapshots: this.cache,
      meshStatus: () => meshStatus(sources),
      secretStatus: () => secretStatus(sources),
      secretsFor: (endpoint) => secretViews(sources, endpoint),
      readiness: readiness(sources),
      actions: actions(sources),
    });
    await this.adminServer.start();
    log.info({ url: this.adminServer.url }, `admin listening on ${this.adminServer.url}`);
  }

  private async startApi(api: ApiSettings): Promise<void> {
    const parsed = parseXdsAddress(api.address);
    if (parsed.kind !== 'tcp') throw new Error(`--api ${api.address}: the App Mesh API listens on HOST:PORT`);
    this.apiServer = await startAppMeshApi({
      host: parsed.host,
      port: parsed.port,
      ...(api.allowPublic ? { allowPublic: true } : {}),
      store: new DirectoryStore(this.options.configDir),
      keysFile: api.keysFile,
      region: api.region,
      account: api.account,
      trustDomain: this.options.trustDomain,
      ...(api.ratePerSecond ? { ratePerSecond: api.ratePerSecond } : {}),
      ...(api.rateBurst ? { rateBurst: api.rateBurst } : {}),
      ...(api.maxBodyBytes ? { maxBodyBytes: api.maxBodyBytes } : {}),
    });
    log.info({ url: this.apiServer.url, keys: api.keysFile }, `App Mesh API listening on ${this.apiServer.url}`);
  }

  private credentialFor = (endpointId: string): { header: string; value: string } => ({
    header: CREDENTIAL_HEADER,
    value: this.credentials.tokenFor(endpointId),
  });

  /** Translates, checks and publishes a valid model; throws (refusing the change) on any problem. */
  private apply(model: MeshModel, revision: number): void {
    const translation = translateMesh(model, { credentialFor: this.credentialFor }, this.translation);
    const problems: string[] = [];
    for (const id of translation.rebuilt) {
      const snapshot = translation.snapshots.get(id)!;
      problems.push(...snapshot.consistencyErrors().map((e) => `${id}: ${e}`));
      for (const typeUrl of snapshot.typeUrls()) {
        for (const resource of snapshot.get(typeUrl)!.resources.values()) {
          const violations = validateResource(typeUrl, resource.value);
          if (violations.length > 0) problems.push(`${id}: ${shortTypeName(typeUrl)} ${resource.name}: ${formatPgvViolations(violations)}`);
        }
      }
    }
    if (problems.length > 0) throw new Error(`the translation broke Envoy's constraints (a meshd bug; nothing was published):\n${problems.join('\n')}`);
    // The model first: publishing notifies watchers that derive from it (per-proxy port variants).
    const previousModel = this.model;
    this.model = model;
    this.translation = translation;
    for (const id of translation.rebuilt) this.cache.setSnapshot(id, translation.snapshots.get(id)!);
    for (const id of Object.keys(previousModel?.endpoints ?? {})) {
      if (id in model.endpoints) continue;
      // New connections for it get nothing; proxies already connected keep what they have.
      this.cache.clearSnapshot(id);
      log.warn({ endpoint: id }, 'endpoint removed from the mesh; its connected proxies keep their last configuration');
    }
    this.fileSecrets.sync(model).then(
      () => this.secrets.refreshAll(),
      (err: Error) => log.error({ err: err.message }, 'could not start watching the file-backed secrets of this mesh'),
    );
    this.secrets.refreshAll();
    this.metrics.configReload('applied');
    log.info({ revision, rebuilt: translation.rebuilt.length, reused: translation.reused.length }, 'published snapshots');
    this.options.onApplied?.(revision, translation);
  }

  /** The endpoint's snapshot with its own listeners on the ports its proxy asked for. */
  private translateVariant(endpointKey: string, overrides: PortOverrides): Snapshot | undefined {
    const model = this.model;
    const endpoint = model?.endpoints[endpointKey];
    if (!model || !endpoint) return undefined;
    const variant: MeshModel = { ...model, endpoints: { ...model.endpoints, [endpointKey]: { ...endpoint, meshd: { ...endpoint.meshd, ...overrides } } } };
    return buildSnapshot(variant, endpointKey, { credentialFor: this.credentialFor });
  }

  private secretPolicyOf(endpointKey: string): EndpointSecretPolicy | undefined {
    const endpoint = this.model?.endpoints[endpointKey];
    if (!endpoint) return undefined;
    const hostname = endpoint.serviceDiscovery?.hostname;
    return {
      dnsNames: hostname && net.isIP(hostname) === 0 ? [hostname] : [],
      fileSecrets: endpoint.sdsSecrets.filter((use) => use.provision.kind === 'file-certificate' || use.provision.kind === 'file-trust').map((use) => use.secretName),
    };
  }

  async stop(): Promise<void> {
    await this.apiServer?.close();
    await this.adminServer?.close();
    await this.watcher.close();
    await Promise.all([this.xdsServer.shutdown(1000), this.sdsServer?.shutdown(1000)]);
    this.secrets.close();
    this.certificates.stop();
    await this.fileSecrets.close();
    await this.authority.close();
  }
}
