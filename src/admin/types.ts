// The small interfaces the admin surface reads from the rest of meshd. The stream registry is
// ours; mesh status, secret status, readiness and operator actions are implemented by the parts
// that own them (spec loading, the CA, the listeners) and injected when the admin server starts.
import type { Snapshot } from '../cache/snapshot';
import type { FleetProxy, FleetReplicaInfo } from '../store/fleet-registry';

/** How a proxy is served: Envoy resources, or the proxyless gRPC (xDS-based security) form. */
export type ServedForm = 'envoy' | 'grpc';

/** What carries a stream: loopback/remote TCP or a Unix domain socket. */
export type Transport = 'tcp' | 'unix';

/** One response sent on a stream, for one type. */
export interface SentState {
  version: string;
  nonce: string;
  /** ISO 8601. */
  at: string;
  resourceCount: number;
}

export interface AckState {
  version: string;
  /** ISO 8601. */
  at: string;
}

export interface NackState {
  /** The version the proxy refused (from the nonce it answered), not the one it kept. */
  version: string;
  nonce: string;
  message: string;
  /** ISO 8601. */
  at: string;
}

/** Per type URL on one stream: what meshd sent, what the proxy accepted, what it refused last. */
export interface TypeStatus {
  typeUrl: string;
  /** Short name: CDS, EDS, LDS, RDS, SDS. */
  type: string;
  sent?: SentState;
  acked?: AckState;
  lastNack?: NackState;
  /**
   * synced: the last version sent was acknowledged; pending: sent, not yet answered; nacked: the
   * last version sent was refused; not_sent: subscribed, nothing sent yet.
   */
  state: 'synced' | 'pending' | 'nacked' | 'not_sent';
}

/** One connected xDS or SDS stream. Never carries node metadata (it may hold a credential). */
export interface ProxyStatus {
  streamId: number;
  nodeId: string;
  cluster: string;
  userAgentName: string;
  /** Canonical mesh endpoint key (`mesh/<mesh>/virtualNode/<name>`). */
  endpoint: string;
  form: ServedForm;
  /** ADS, CDS, ..., SDS. */
  service: string;
  flavor: 'sotw' | 'delta';
  transport: Transport;
  /** ISO 8601. */
  connectedSince: string;
  types: TypeStatus[];
}

export interface ClosedStreamStatus extends ProxyStatus {
  /** ISO 8601. */
  closedAt: string;
}

/** The mesh specs as last loaded: what is served, and the last change that was refused. */
export interface MeshStatus {
  /** Content revision of the mesh being served; null before the first successful load. */
  revision: string | null;
  /** ISO 8601 time the served revision was applied. */
  appliedAt?: string;
  /** Warnings of the served revision (accepted, not honoured), each naming file, resource and field. */
  warnings?: string[];
  lastRefused?: {
    /** ISO 8601. */
    at: string;
    /** Every validation error, each naming file, resource and field path. */
    errors: string[];
  };
}

/** A proxy holding a version of a secret. */
export interface SecretHolder {
  nodeId: string;
  /** The SDS version it acknowledged (the version of the secrets it asked for). */
  version: string;
  /** Whether that is the version meshd serves now for what it asked for. */
  current?: boolean;
}

/** One served secret (certificate or trust bundle), described without any key material. */
export interface SecretStatus {
  name: string;
  kind: 'certificate' | 'trust';
  /** Version currently served. */
  version: string;
  /** Hex serial of the (leaf or first CA) certificate. */
  serial: string;
  sans: string[];
  /** ISO 8601. */
  notAfter: string;
  holders: SecretHolder[];
}

/**
 * A secret as `/config_dump` shows it: certificates and trust bundles in PEM, never a private
 * key. Implementations must build this from the public parts only.
 */
export interface SecretView {
  name: string;
  version: string;
  certificateChainPem?: string;
  trustedCaPem?: string;
  /** Names of validation SANs or other non-secret settings worth showing. */
  details?: Record<string, string | string[]>;
}

/** One readiness condition: specs loaded, CA ready, listeners bound, ... */
export interface ReadinessCheck {
  name: string;
  /** true when ready; a string explains why not. */
  check(): boolean | string | Promise<boolean | string>;
}

/** The outcome of an operator action, echoed as JSON. */
export interface ActionResult {
  /** What was done, for the operator. */
  message: string;
  [detail: string]: unknown;
}

/** Operator actions that exist; a missing one answers 404. */
export interface AdminActions {
  /** Re-issue leaf certificates: every endpoint's, or one node's. */
  rotate?(nodeKey?: string): Promise<ActionResult>;
  /** Start a CA rollover (new CA into the bundle, leaves re-issued, old CA retired later). */
  caRollover?(): Promise<ActionResult>;
  /** Make a new node credential key current; the old one is accepted for `overlapMs` more. */
  rotateCredentialKey?(overlapMs: number): Promise<ActionResult>;
  /** Revoke one endpoint's node credentials: its streams end, its earlier bootstraps are refused. */
  revokeCredential?(nodeKey: string): Promise<ActionResult>;
}

/** Where the current snapshots are read from (SnapshotCache satisfies this). */
export interface SnapshotSource {
  getSnapshot(nodeKey: string): Snapshot | undefined;
}

/** A proxy somewhere in the fleet, and the replica serving it. */
export interface FleetProxyStatus extends FleetProxy {
  replica: string;
}

/** One replica in the fleet view. */
export interface FleetReplicaStatus extends FleetReplicaInfo {
  /** How many proxies (node ids) it serves. */
  proxies: number;
  /** Whether it is the replica that answered. */
  self: boolean;
}

/** The fleet (replicas on a shared store): every replica and every proxy, with who serves it. */
export interface FleetStatus {
  /** The replica that answered. */
  replica: string;
  replicas: FleetReplicaStatus[];
  proxies: FleetProxyStatus[];
}
