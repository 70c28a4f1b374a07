// What `meshd verify` reports: the policy it judges by, a finding, the per-listener and
// per-cluster rows and the whole report. Shared by the judging (report.ts, listener-findings.ts)
// and the rendering, so neither imports the other.
import type { CertificateInfo } from './certs';
import type { ClusterPosture, ListenerPosture, TlsConfig } from './config-dump';
import type { ClusterStats, ListenerStats } from './stats';

export interface VerifyPolicy {
  /** Also fail on ssl.connection_error and on evidence of plaintext connections. */
  strict: boolean;
  /** A certificate expiring within this many days is a failure. */
  expiryDays: number;
  /** App Mesh's ingress port; the listener `<addr>_<port>` must be TLS under --strict. Default 15000. */
  ingressPort?: number;
}

export interface Finding {
  /** `fail` makes verify exit 1; `warn` and `note` are shown only (`note`: by design, for the record). */
  level: 'fail' | 'warn' | 'note';
  /** What it is about, e.g. `listener 0.0.0.0_15000` or `certificate 5c1f...`. */
  subject: string;
  message: string;
}

/** A listener row: its counters, its configured TLS posture, and connections that did no TLS. */
export interface ListenerReport extends ListenerStats {
  /** From /config_dump; `unknown` when it could not be read or does not hold this listener. */
  posture: ListenerPosture;
  /** The Envoy listener name from /config_dump (the row's `name` is its stat prefix). */
  listenerName?: string;
  /** The port it binds, from /config_dump. */
  port?: number;
  /** Filter chains terminating TLS, from /config_dump. */
  tlsChains?: number;
  /** Of those, the ones requiring a client certificate. */
  mutualChains?: number;
  /** Filter chains without TLS. */
  plaintextChains?: number;
  /** downstream_cx_total minus handshakes and TLS errors, on a TLS listener; absent otherwise. */
  connectionsWithoutTls?: number;
}

/** A cluster row: its TLS counters and its configured TLS posture. */
export interface ClusterReport extends ClusterStats {
  /** From /config_dump; `unknown` when it could not be read or does not hold this cluster. */
  posture: ClusterPosture;
}

/** Where the postures come from: the configuration, or (when it could not be read) nowhere. */
export type PostureSource = { config: TlsConfig } | { unavailable: string };

export interface VerifyReport {
  adminUrl: string;
  policy: Required<VerifyPolicy>;
  /** `config_dump` when postures were read from it, `stats` when listeners were judged by /stats heuristics. */
  postureSource: 'config_dump' | 'stats';
  /** Why /config_dump was not used, when postureSource is `stats`. */
  postureFallbackReason?: string;
  listeners: ListenerReport[];
  clusters: ClusterReport[];
  certificates: CertificateInfo[];
  findings: Finding[];
  /** True when no finding is a failure. */
  ok: boolean;
}
