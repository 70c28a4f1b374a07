// The ingress side of an endpoint: one Envoy listener at meshd.ingressPort whose filter chains
// terminate TLS per each mesh listener's `tls` and hand the traffic to that listener's filters.
//
// Several mesh listeners on one endpoint share the single ingress port (App Mesh's Envoy does the
// same, with iptables redirecting every application port to it). Each mesh listener gets filter
// chains matched on its own port as destination, which the original_dst listener filter restores
// after an iptables REDIRECT; connections made straight to the ingress port (local runs, no
// iptables) match no listener port and fall to catch-all chains of the first declared listener.
//
// TLS modes: STRICT = only a TLS chain; PERMISSIVE = a TLS chain matched on transport protocol
// "tls" (set by the TLS inspector) beside a plaintext chain matching anything else; DISABLED or no
// `tls` = plaintext only.
import type { ProtoObject } from '../envoy/types';
import { filterChain, listener, originalDstFilter, tlsInspectorFilter, type FilterChainMatch } from '../envoy/listener';
import { downstreamTlsContext, tlsTransportSocket } from '../envoy/tls';
import type { ListenerModel, Protocol } from '../model/types';
import type { EndpointContext } from './context';
import { ingressListenerName, listenerStatPrefix } from './names';

/** A mesh listener and the network filters that serve its traffic once TLS is terminated. */
export interface IngressChainSpec {
  readonly listener: ListenerModel;
  readonly filters: readonly ProtoObject[];
}

function alpnFor(protocol: Protocol): string[] {
  return protocol === 'http2' || protocol === 'grpc' ? ['h2', 'http/1.1'] : [];
}

function chainsFor(context: EndpointContext, spec: IngressChainSpec, destinationPort: number | undefined): ProtoObject[] {
  const { listener: mesh, filters } = spec;
  const where = destinationPort === undefined ? 'any' : String(destinationPort);
  const base = `${mesh.protocol}_${mesh.port}_${where}`;
  const port: FilterChainMatch = destinationPort === undefined ? {} : { destinationPort };
  const tls = mesh.tls;
  if (!tls || tls.mode === 'DISABLED') return [filterChain(`${base}_plaintext`, port, filters)];
  const socket = tlsTransportSocket(downstreamTlsContext(tls, context.sdsConfig, alpnFor(mesh.protocol)));
  if (tls.mode === 'STRICT') return [filterChain(`${base}_tls`, port, filters, socket)];
  return [
    filterChain(`${base}_tls`, { ...port, transportProtocol: 'tls' }, filters, socket),
    filterChain(`${base}_plaintext`, port, filters),
  ];
}

/** The ingress Listener of an endpoint, or undefined when it has no mesh listeners. */
export function ingressListener(context: EndpointContext, specs: readonly IngressChainSpec[]): ProtoObject | undefined {
  const first = specs[0];
  if (!first) return undefined;
  const { meshd } = context.endpoint;
  const byPort = specs.length > 1;
  const chains = [
    ...(byPort ? specs.flatMap((spec) => chainsFor(context, spec, spec.listener.port)) : []),
    ...chainsFor(context, first, undefined),
  ];
  const permissive = specs.filter((spec) => spec.listener.tls?.mode === 'PERMISSIVE');
  const listenerFilters = [
    ...(byPort ? [originalDstFilter()] : []),
    ...(permissive.length > 0 ? [tlsInspectorFilter()] : []),
  ];
  return listener({
    name: ingressListenerName(meshd.address, meshd.ingressPort),
    address: meshd.address,
    port: meshd.ingressPort,
    statPrefix: listenerStatPrefix(meshd.ingressPort),
    listenerFilters,
    filterChains: chains,
    // A server-first TCP protocol sends nothing for the TLS inspector to read: let it through as
    // plaintext after the inspector's timeout instead of closing the connection.
    continueOnListenerFiltersTimeout: permissive.some((spec) => spec.listener.protocol === 'tcp'),
    trafficDirection: 'INBOUND',
  });
}
