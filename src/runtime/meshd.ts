// One running meshd: the pipeline from spec files to streams, wired once and nothing else.
//   mesh source (the watched spec directory, or a store such as etcd) -> model -> MeshApplier (translation, publisher's
//     checks) -> snapshot cache -> ADS (TCP and/or Unix socket)
//   CA + watched files -> per-node secret snapshots (policy from the model) -> SDS (Unix socket)
//   admin server and CSDS read the same parts.
// Every stream checks the node's credential. A change that fails validation, translation or
// Envoy's own field constraints is refused whole; the last good snapshots keep being served.
//
// The seam for other mesh sources (an API writing specs, a shared store): whatever produces
// validated models calls `applier.apply(model, revision)` and reports refusals, as MeshWatcher does.
import type * as grpc from '@grpc/grpc-js';
import { NodeCredentials, CREDENTIAL_HEADER } from '../auth/node-credential';
import { SnapshotCache } from '../cache/snapshot-cache';
import { SnapshotPublisher } from '../cache/publisher';
import type { Snapshot } from '../cache/snapshot';
import type { MeshModel } from '../model/types';
import { EndpointCertificates, TrustAuthority } from '../pki';
import { SecretCache } from '../sds/secret-cache';
import { secretPolicyFor } from '../sds/secret-policy';
import { identifyMeshEndpoint, startSdsServer } from '../sds/sds-server';
import { combineObservers, type StreamObserver } from '../server/observer';
import { ADS, CDS, EDS, LDS, RDS } from '../server/services';
import { formatListenAddress, parseListenAddress, XdsServer } from '../server/xds-server';
import type { MeshTranslation } from '../translate';
import { PortVariantWatcher, withPortOverrides } from './port-overrides';
import { FileSecrets } from './file-secrets';
import { MeshWatcher, type RefusedChange } from './mesh-watcher';
import type { MeshSource } from './mesh-source';
import { StoreSource } from './store-source';
import { MeshApplier } from './mesh-applier';
import { startAdminServer } from './admin-wiring';
import { openStateDirectory, type StateRecovery } from './state-directory';
import type { SpecLimits } from '../spec/limits';
import { logger } from '../log';
import { formFromUserAgent, StreamRegistry } from '../admin/stream-registry';
import { parseNodeId } from '../identity/endpoint-id';
import { MeshdMetrics } from '../admin/metrics';
import type { AdminServer } from '../admin/server';
import { addCsdsService } from '../admin/csds';
import { parseXdsAddress } from '../xds/address';
import type { ApiServer, ApiSettings } from '../api';
// The store's parts directly: its index also exports the etcd store, which loads the etcd client.
import { DirectoryStore } from '../store/directory-store';
import type { ResourceStore } from '../store/types';
import { openSharedParts, type SharedOptions, type SharedParts } from './shared-wiring';
import { ViewChanges } from '../admin/view-changes';
import { signalViewChanges } from './view-sources';
import { FleetMembership, type FleetSettings } from './fleet';

const log = logger('meshd');

/** A rollover finishes by itself this long after no leaf depends on the previous CA. */
const DEFAULT_ROLLOVER_GRACE_MS = 10_000;

/** Why a listener could not be bound, in words naming the address and the flag that sets it. */
function listenFailure(what: string, address: string, flag: string, err: Error): Error {
  const text = err.message;
  const reason = /EADDRINUSE/.test(text) ? 'address already in use (by another meshd or program)'
    : /EACCES/.test(text) ? 'permission denied (ports below 1024 need privileges)'
      : /EADDRNOTAVAIL/.test(text) ? 'no such address on this host'
        : text;
  return new Error(`${what} cannot listen on ${address}: ${reason}; choose another with ${flag}`);
}

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
  /** Deliberate recovery of a damaged state directory (otherwise it is refused; see openStateDirectory). */
  stateRecovery?: StateRecovery;
  /** Spec file size, document and alias limits (default DEFAULT_SPEC_LIMITS). */
  specLimits?: SpecLimits;
  /** The App Mesh API (`--api`); its writes land in the spec directory (or `store`), which the mesh source applies. */
  api?: ApiSettings;
  /** Read the mesh from this store (etcd, shared by replicas) instead of watching `configDir`; the caller closes it. */
  store?: ResourceStore;
  /** Share the CA and node-credential key with the other replicas through this etcd store (shared-wiring.ts). */
  shared?: SharedOptions;
  /** Quiet period after the last spec change before it is loaded (default 100 ms; the benchmarks time a change without it). */
  reloadHoldOffMs?: number;
  /** With a shared store: register this replica and its proxies, and show the whole fleet (see fleet.ts). */
  fleet?: FleetSettings;
}

/** The parts of a running meshd, built before any of them is started. */
interface MeshdParts {
  credentials: NodeCredentials;
  authority: TrustAuthority;
  certificates: EndpointCertificates;
  metrics: MeshdMetrics;
  cache: SnapshotCache;
  publisher: SnapshotPublisher;
  secrets: SecretCache;
  fileSecrets: FileSecrets;
  applier: MeshApplier;
  watcher: MeshSource;
  registry: StreamRegistry;
  viewChanges: ViewChanges;
  shared?: SharedParts;
}

export class Meshd {
  readonly credentials: NodeCredentials;
  readonly authority: TrustAuthority;
  readonly certificates: EndpointCertificates;
  readonly metrics: MeshdMetrics;
  readonly cache: SnapshotCache;
  readonly publisher: SnapshotPublisher;
  readonly secrets: SecretCache;
  readonly fileSecrets: FileSecrets;
  readonly applier: MeshApplier;
  /** The mesh source (the spec directory's watcher, or the store's). */
  readonly watcher: MeshSource;
  readonly registry: StreamRegistry;
  /** Raised whenever what the mesh view (/ui) shows changes. */
  readonly viewChanges: ViewChanges;
  readonly xdsServer: XdsServer;
  /** ADS addresses actually bound (real ports when 0 was asked). */
  xdsAddresses: string[] = [];
  adminServer: AdminServer | undefined;
  apiServer: ApiServer | undefined;
  /** This replica's membership of the fleet view (with `options.fleet`). */
  fleet: FleetMembership | undefined;
  private listening = false;
  private sdsServer: XdsServer | undefined;
  /** With `options.shared`: the CA state in etcd and the rollover leader. */
  readonly shared: SharedParts | undefined;

  private constructor(readonly options: MeshdOptions, parts: MeshdParts) {
    ({
      credentials: this.credentials, authority: this.authority, certificates: this.certificates, metrics: this.metrics,
      cache: this.cache, publisher: this.publisher, secrets: this.secrets, fileSecrets: this.fileSecrets,
      applier: this.applier, watcher: this.watcher, registry: this.registry, viewChanges: this.viewChanges, shared: this.shared,
    } = parts);
    const applier = parts.applier;
    this.xdsServer = new XdsServer({
      services: [ADS, CDS, EDS, LDS, RDS],
      settings: {
        watcher: new PortVariantWatcher(this.publisher, (key, overrides) => applier.translateVariant(key, overrides)),
        identify: withPortOverrides(this.metrics.countingRefusals(this.credentials.identifier())),
        observer: this.observer(),
      },
      extraServices: (server) => {
        // With an admin token, CSDS (which shows every node's configuration) asks for it too.
        const token = options.adminToken;
        addCsdsService(server, {
          registry: this.registry,
          snapshots: this.cache,
          ...(token ? { authorize: (metadata: grpc.Metadata) => metadata.get('authorization')[0] === `Bearer ${token}` } : {}),
          ...(options.fleet ? { fleet: () => this.fleet?.status() } : {}),
        });
        options.extraServices?.(server);
      },
    });
  }

  /** Builds every part, then starts the mesh source and the servers. */
  static async start(options: MeshdOptions): Promise<Meshd> {
    const meshd = new Meshd(options, await buildParts(options));
    try {
      await meshd.watcher.start();
      for (const text of options.xds) {
        const bound = await meshd.xdsServer.listen(parseListenAddress(text)).catch((err: Error) => {
          throw listenFailure('ADS', text, '--xds', err);
        });
        meshd.xdsAddresses.push(formatListenAddress(bound));
        log.info({ address: formatListenAddress(bound) }, `ADS listening on ${formatListenAddress(bound)}`);
      }
      meshd.sdsServer = await startSdsServer({
        socketPath: options.sdsSocket,
        secrets: meshd.secrets,
        // Checked here too (startSdsServer checks again) so a node outside the mesh is counted.
        identify: meshd.metrics.countingRefusals(identifyMeshEndpoint(meshd.credentials.identifier(), meshd.secrets)),
        observer: meshd.observer(),
        ...(options.sdsSocketMode ? { socketMode: options.sdsSocketMode, directoryMode: options.sdsSocketMode & 0o070 ? 0o750 : 0o700 } : {}),
      });
      log.info({ socket: options.sdsSocket }, `SDS listening on unix:${options.sdsSocket}`);
      meshd.listening = true;
      if (options.admin) await meshd.startAdmin(options.admin);
      if (options.api) await meshd.startApi(options.api);
      if (options.fleet) {
        meshd.fleet = await FleetMembership.start(options.fleet, {
          xds: meshd.xdsAddresses,
          ...(meshd.adminServer ? { admin: meshd.adminServer.url } : {}),
          ...(meshd.apiServer ? { api: meshd.apiServer.url } : {}),
        }, meshd.registry);
        log.info({ replica: meshd.fleet.replicaName }, `registered in the fleet view as replica ${meshd.fleet.replicaName}`);
      }
    } catch (err) {
      await meshd.stop();
      throw err;
    }
    return meshd;
  }

  /** The current model, if a valid one has been applied. */
  get currentModel(): MeshModel | undefined {
    return this.applier.model;
  }

  /** The snapshot a node is served now. */
  snapshotOf(nodeKey: string): Snapshot | undefined {
    return this.cache.getSnapshot(nodeKey);
  }

  private observer(): StreamObserver {
    return combineObservers([this.registry, this.metrics, ...(this.options.observers ?? [])]);
  }

  private async startAdmin(address: string): Promise<void> {
    this.adminServer = await startAdminServer({
      address,
      ...(this.options.adminAllowPublic ? { allowPublic: true } : {}),
      ...(this.options.adminToken ? { adminToken: this.options.adminToken } : {}),
      registry: this.registry,
      metrics: this.metrics,
      snapshots: this.cache,
      applier: this.applier,
      viewChanges: this.viewChanges,
      ...(this.options.fleet ? { fleet: () => this.fleet?.status() } : {}),
      sources: {
        watcher: this.watcher, certificates: this.certificates, authority: this.authority, secrets: this.secrets,
        credentials: this.credentials, registry: this.registry, trustDomain: this.options.trustDomain, listening: () => this.listening,
        rolloverGraceMs: this.options.rolloverGraceMs ?? DEFAULT_ROLLOVER_GRACE_MS,
        ...(this.shared ? { startRollover: () => this.shared!.state.startRollover() } : {}),
      },
    }).catch((err: Error) => {
      throw listenFailure('the admin server', address, '--admin', err);
    });
    log.info({ url: this.adminServer.url }, `admin listening on ${this.adminServer.url}`);
  }

  private async startApi(api: ApiSettings): Promise<void> {
    const parsed = parseXdsAddress(api.address);
    if (parsed.kind !== 'tcp') throw new Error(`--api ${api.address}: the App Mesh API listens on HOST:PORT`);
    // Loaded only with --api: the App Mesh service model and handlers are megabytes.
    const { startAppMeshApi } = await import('../api');
    this.apiServer = await startAppMeshApi({
      host: parsed.host,
      port: parsed.port,
      ...(api.allowPublic ? { allowPublic: true } : {}),
      store: this.options.store ?? new DirectoryStore(this.options.configDir),
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

  async stop(): Promise<void> {
    await this.fleet?.close();
    await this.apiServer?.close();
    await this.adminServer?.close();
    await this.watcher.close();
    await Promise.all([this.xdsServer.shutdown(1000), this.sdsServer?.shutdown(1000)]);
    this.secrets.close();
    this.certificates.stop();
    await this.fileSecrets.close();
    await this.shared?.close();
    await this.authority.close();
    this.credentials.close();
  }
}

/**
 * Every part, in dependency order: nothing refers to a part that does not exist yet, so no part
 * needs the Meshd object.
 */
async function buildParts(options: MeshdOptions): Promise<MeshdParts> {
  const graceMs = options.rolloverGraceMs ?? DEFAULT_ROLLOVER_GRACE_MS;
  const stateOptions = { stateDir: options.stateDir, trustDomain: options.trustDomain, ...(options.stateRecovery ? { recovery: options.stateRecovery } : {}) };
  const shared = options.shared ? await openSharedParts({ ...stateOptions, ...options.shared, graceMs }) : undefined;
  const { credentials, authority } = shared?.state ?? await openStateDirectory({ ...stateOptions, autoFinishGraceMs: graceMs });
  const metrics = new MeshdMetrics();
  const viewChanges = new ViewChanges();
  const certificates = new EndpointCertificates({
    authority,
    ...(options.leafTtlMs ? { ttlMs: options.leafTtlMs } : {}),
    ...(options.refreshFraction ? { refreshFraction: options.refreshFraction } : {}),
  });
  watchCertificateMetrics(metrics, certificates, authority);
  const cache = new SnapshotCache();
  const publisher = new SnapshotPublisher(cache);
  const applier = new MeshApplier({
    publisher, certificates, metrics,
    trustDomain: options.trustDomain,
    translate: { credentialFor: (endpointId) => ({ header: CREDENTIAL_HEADER, value: credentials.tokenFor(endpointId) }) },
  });
  const fileSecrets = new FileSecrets((refusal) => metrics.fileSecretRefused(refusal.reason));
  const secrets = new SecretCache({
    certificates,
    trustDomain: options.trustDomain,
    policyOf: (key) => secretPolicyFor(applier.model, key),
    fileSecret: (mesh, name) => fileSecrets.get(mesh, name),
  });
  fileSecrets.onChange(() => secrets.refreshAll());
  // SDS follows the model: its file-backed secrets, and every node's entitled secrets.
  applier.onApplied((model) => {
    fileSecrets.sync(model).then(
      () => secrets.refreshAll(),
      (err: Error) => log.error({ err: err.message }, 'could not start watching the file-backed secrets of this mesh'),
    );
    secrets.refreshAll();
  });
  if (options.onApplied) applier.onApplied((_model, revision, translation) => options.onApplied!(revision, translation));
  // The SDS config sources carry each node's credential: after a key rotation or a revocation the
  // snapshots whose credential changed are rebuilt (revoked streams have ended by then).
  credentials.onChange(() => {
    try {
      applier.reapply();
    } catch (err) {
      log.error({ err: (err as Error).message }, 'could not re-translate the mesh after the node credentials changed; proxies keep their last configuration');
    }
  });
  const sourceOptions = {
    trustDomain: options.trustDomain,
    ...(options.specLimits ? { limits: options.specLimits } : {}),
    ...(options.reloadHoldOffMs !== undefined ? { holdOffMs: options.reloadHoldOffMs } : {}),
    apply: (model: MeshModel, revision: number) => applier.apply(model, revision),
    refused: (change: RefusedChange) => {
      metrics.configReload('refused');
      viewChanges.signal('refused');
      options.onRefused?.(change);
    },
  };
  const watcher: MeshSource = options.store
    ? new StoreSource({ store: options.store, ...sourceOptions })
    : new MeshWatcher({ dir: options.configDir, ...sourceOptions });
  // The form a node is served follows its spec (`meshd.proxyless`), else what it says it is.
  const registry = new StreamRegistry({
    formOf: (node) => {
      const endpoint = applier.model?.endpoints[parseNodeId(node.id).key];
      return endpoint ? (endpoint.meshd.proxyless ? 'grpc' : 'envoy') : formFromUserAgent(node);
    },
  });
  signalViewChanges(viewChanges, { applier, registry, certificates, authority });
  return { credentials, authority, certificates, metrics, cache, publisher, secrets, fileSecrets, applier, watcher, registry, viewChanges, ...(shared ? { shared } : {}) };
}

function watchCertificateMetrics(metrics: MeshdMetrics, certificates: EndpointCertificates, authority: TrustAuthority): void {
  certificates.on('certificate', (change) => {
    metrics.certificateIssued('leaf');
    if (change.previousSerial) metrics.certificateRotated('leaf');
  });
  authority.on('rolloverStarted', () => metrics.certificateRotated('ca'));
  metrics.setCertificateExpirySource(() => {
    let earliest: Date | undefined;
    for (const id of certificates.endpointIds()) {
      const notAfter = certificates.current(id)?.notAfter;
      if (notAfter && (!earliest || notAfter < earliest)) earliest = notAfter;
    }
    return earliest;
  });
}
