// Names and checks the scenarios share: Envoy statistic names in App Mesh's naming (SPEC.md),
// predicates on /config_dump, and a scenario's shape.
import * as http from 'node:http';
import { activeCluster, activeListener, type ConfigDump } from './envoy-admin';
import type { MeshStartOptions, MeshUnderTest } from './harness';
import type { EndpointPlan } from './mesh-plan';

export interface Scenario {
  /** Number and title, e.g. `1 STRICT mTLS between all services`. */
  name: string;
  /** How the scenario's mesh starts. */
  start: (mode: MeshUnderTest['mode']) => MeshStartOptions;
  run: (mesh: MeshUnderTest, note: (line: string) => void) => Promise<void>;
}

/** A scenario step that can be skipped at run time (a missing meshd feature). */
export class SkipStep extends Error {}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** `listener.0.0.0.0_<ingress>.ssl.<counter>`: an endpoint's ingress listener (stat prefix 0.0.0.0_<port>). */
export function listenerStat(endpoint: EndpointPlan, counter: string): string {
  return `listener.0.0.0.0_${endpoint.ingressPort}.${counter}`;
}

/** The egress cluster name a client uses for a target node's first listener. */
export function egressCluster(target: EndpointPlan): string {
  return `cds_egress_${target.mesh}_${target.name}_${target.appProtocol ?? 'http'}_${target.appPort}`;
}

export function clusterStat(target: EndpointPlan, counter: string): string {
  return `cluster.${egressCluster(target)}.${counter}`;
}

export function ingressListenerName(dump: ConfigDump, endpoint: EndpointPlan): string | undefined {
  for (const config of dump.configs) {
    for (const l of config.dynamic_listeners ?? []) if (l.name.startsWith('lds_ingress_') && l.name.endsWith(`_${endpoint.ingressPort}`)) return l.name;
  }
  return undefined;
}

type Json = Record<string, unknown>;

function filterChains(listener: Json): Json[] {
  return (listener.filter_chains as Json[] | undefined) ?? [];
}

/** The ingress listener of `endpoint` as Envoy holds it now. */
export function ingressListener(dump: ConfigDump, endpoint: EndpointPlan): { version: string; listener: Json } | undefined {
  const name = ingressListenerName(dump, endpoint);
  return name ? activeListener(dump, name) : undefined;
}

/** How the ingress listener takes connections: TLS chains, plaintext chains, client certificates. */
export function ingressTls(dump: ConfigDump, endpoint: EndpointPlan): { tlsChains: number; plaintextChains: number; requiresClientCert: boolean } | undefined {
  const found = ingressListener(dump, endpoint);
  if (!found) return undefined;
  const chains = filterChains(found.listener);
  const tls = chains.filter((c) => c.transport_socket);
  const requiresClientCert = tls.some((c) => {
    const typed = (c.transport_socket as Json).typed_config as Json | undefined;
    return typed?.require_client_certificate === true;
  });
  return { tlsChains: tls.length, plaintextChains: chains.length - tls.length, requiresClientCert };
}

/** How a client cluster originates TLS: none, TLS, or TLS with its own certificate (mTLS). */
export function clusterTls(dump: ConfigDump, clusterName: string): 'absent' | 'plaintext' | 'tls' | 'mtls' {
  const found = activeCluster(dump, clusterName);
  if (!found) return 'absent';
  const socket = found.cluster.transport_socket as Json | undefined;
  if (!socket) return 'plaintext';
  const common = ((socket.typed_config as Json | undefined)?.common_tls_context ?? {}) as Json;
  const certs = [common.tls_certificate_sds_secret_configs, common.tls_certificates].some((v) => Array.isArray(v) && v.length > 0);
  return certs ? 'mtls' : 'tls';
}

/** A plaintext HTTP request straight at an Envoy listener; resolves with the status or the error. */
export function plaintextProbe(host: string, port: number): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const request = http.get({ host, port, path: '/plaintext-probe', agent: false, timeout: 5000 }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 5 s')));
    request.on('error', (err) => resolve({ error: err.message }));
  });
}

/** Sum of several statistics of one Envoy. */
export function sumOf(stats: ReadonlyMap<string, number>, names: readonly string[]): number {
  return names.reduce((sum, name) => sum + (stats.get(name) ?? 0), 0);
}
