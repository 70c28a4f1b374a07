// Envoy resource names, as App Mesh's Envoy uses them so existing dashboards and alerts keep
// working (`listener.0.0.0.0_15000.*`, `cluster.cds_egress_<mesh>_<node>_<protocol>_<port>.*`).
import type { Protocol } from '../model/types';

/** `lds_ingress_<address>_<port>`. */
export function ingressListenerName(address: string, port: number): string {
  return `lds_ingress_${address}_${port}`;
}

/** `lds_egress_<address>_<port>`. */
export function egressListenerName(address: string, port: number): string {
  return `lds_egress_${address}_${port}`;
}

/** `0.0.0.0_<port>`: the listener stat prefix App Mesh dashboards read, whatever the bind address. */
export function listenerStatPrefix(port: number): string {
  return `0.0.0.0_${port}`;
}

/** `cds_ingress_<mesh>_<node>_<protocol>_<port>`: the local application behind a listener. */
export function ingressClusterName(meshName: string, name: string, protocol: Protocol, port: number): string {
  return `cds_ingress_${meshName}_${name}_${protocol}_${port}`;
}

/** `cds_egress_<mesh>_<targetNode>_<protocol>_<port>`: a backend's virtual node. */
export function egressClusterName(meshName: string, targetNode: string, protocol: Protocol, port: number): string {
  return `cds_egress_${meshName}_${targetNode}_${protocol}_${port}`;
}

/** `rds_ingress_<mesh>_<endpoint>_<protocol>_<port>`: routes of one listener of an endpoint. */
export function ingressRouteName(meshName: string, name: string, protocol: Protocol, port: number): string {
  return `rds_ingress_${meshName}_${name}_${protocol}_${port}`;
}

/** `rds_egress_http_<egressPort>`: the egress listener's routes by Host/authority. */
export function egressRouteName(egressPort: number): string {
  return `rds_egress_http_${egressPort}`;
}
