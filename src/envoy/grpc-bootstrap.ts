// The xDS bootstrap for proxyless gRPC services (gRFC A27, with A36's server listener template and
// A29's file_watcher certificate provider), as the JSON that GRPC_XDS_BOOTSTRAP points to.
// Pure: it only names files; it neither reads nor writes them.
import * as path from 'node:path';
import { isIP } from 'node:net';
import { nodeNameOf, xdsAddressesOf, type NodeCredential } from './bootstrap';
import type { XdsAddress } from '../xds/address';

/** Where the node is, for locality-aware load balancing. */
export interface GrpcLocality {
  region?: string;
  zone?: string;
  sub_zone?: string;
}

export interface GrpcBootstrapOptions {
  /** `mesh/<mesh>/virtualNode/<name>` (or the ARN form); the node id meshd serves. */
  nodeId: string;
  /** node.cluster; defaults to the endpoint's name. */
  cluster?: string;
  /** node.locality; grpc-js-xds requires the field, so an empty one is sent when not given. */
  locality?: GrpcLocality;
  /** meshd's ADS address (`host:port`, `[v6]:port`, `unix:/path`); default 127.0.0.1:18000. */
  xdsAddress?: string;
  /** Several meshd replicas' ADS addresses (IP literals), instead of `xdsAddress`: see serverUri. */
  xdsAddresses?: readonly string[];
  /**
   * Directory holding the node's certificate files; when given, a file_watcher certificate
   * provider is declared for xDS-based security (A29).
   */
  certDir?: string;
  /** File names inside certDir; defaults cert.pem, key.pem, ca.pem. */
  certFiles?: { certificate?: string; privateKey?: string; caCertificate?: string };
  /** Name of the certificate provider instance that CDS/LDS security configs refer to; default `meshd`. */
  certificateProviderName?: string;
  /** How often gRPC re-reads the certificate files, in seconds; default 10 so rotations land quickly. */
  refreshIntervalSeconds?: number;
  /**
   * The node's credential. gRPC's xDS channel credentials (insecure, google_default) cannot carry
   * custom metadata, so it travels in node.metadata under the header name instead.
   */
  credential?: NodeCredential;
}

/** One entry of xds_servers. */
export interface GrpcXdsServer {
  server_uri: string;
  channel_creds: Array<{ type: string; config?: Record<string, unknown> }>;
  server_features: string[];
}

/** A file_watcher certificate provider instance. */
export interface GrpcCertificateProvider {
  plugin_name: 'file_watcher';
  config: { certificate_file: string; private_key_file: string; ca_certificate_file: string; refresh_interval: string };
}

/** The gRPC xDS bootstrap document. */
export interface GrpcBootstrap {
  xds_servers: GrpcXdsServer[];
  /**
   * `xds_v3` again at the top level: grpc-go clients of the 1.3x era read server_features only
   * there and otherwise speak the v2 API, which meshd does not serve (Unimplemented).
   */
  server_features: string[];
  node: { id: string; cluster: string; locality: GrpcLocality; metadata?: Record<string, string> };
  server_listener_resource_name_template: string;
  certificate_providers?: Record<string, GrpcCertificateProvider>;
}

/** The listener name a proxyless gRPC server asks for; `%s` is its listening address (A36). */
export const GRPC_SERVER_LISTENER_TEMPLATE = 'grpc/server?xds.resource.listening_address=%s';
export const DEFAULT_CERTIFICATE_PROVIDER = 'meshd';

const hostPort = (address: XdsAddress & { kind: 'tcp' }): string => (address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`);

/**
 * gRPC's target syntax for meshd's ADS address. Several replicas become one multi-address target,
 * `ipv4:A:P,B:P` (or `ipv6:`), in the single xds_servers entry: the channel connects to one and
 * moves to another when it goes away. A list of xds_servers would not do that everywhere:
 * grpc-js-xds reads only the first entry, and other gRPC languages treat the rest as fallbacks
 * (gRFC A71) only in recent releases. gRPC-Go and gRPC-Java do not resolve `ipv4:` targets; for
 * them give one DNS name with an address per replica instead (gRPC's dns resolver returns all).
 */
function serverUri(addresses: readonly XdsAddress[]): string {
  const [first] = addresses;
  if (addresses.length === 1 && first) return first.kind === 'unix' ? `unix://${path.resolve(first.path)}` : hostPort(first);
  const tcp = addresses.filter((a): a is XdsAddress & { kind: 'tcp' } => a.kind === 'tcp');
  const families = new Set(tcp.map((a) => isIP(a.host)));
  const family = families.size === 1 ? [...families][0] : undefined;
  if (tcp.length !== addresses.length || (family !== 4 && family !== 6)) {
    throw new Error(`xds addresses ${addresses.map((a) => (a.kind === 'unix' ? `unix:${a.path}` : hostPort(a))).join(', ')}: a gRPC bootstrap reaches several replicas through one multi-address target, `
      + 'which takes IP addresses of one family only; give IPv4 (or IPv6) addresses, or one DNS name with an address per replica');
  }
  return `ipv${family}:${tcp.map(hostPort).join(',')}`;
}

/** Builds the gRPC xDS bootstrap JSON object for one proxyless node. */
export function buildGrpcBootstrap(opts: GrpcBootstrapOptions): GrpcBootstrap {
  const nodeName = nodeNameOf(opts.nodeId);
  const node: GrpcBootstrap['node'] = { id: opts.nodeId, cluster: opts.cluster ?? nodeName, locality: { ...opts.locality } };
  if (opts.credential) node.metadata = { [opts.credential.header]: opts.credential.value };
  const bootstrap: GrpcBootstrap = {
    xds_servers: [{
      server_uri: serverUri(xdsAddressesOf(opts)),
      channel_creds: [{ type: 'insecure' }],
      server_features: ['xds_v3'],
    }],
    server_features: ['xds_v3'],
    node,
    server_listener_resource_name_template: GRPC_SERVER_LISTENER_TEMPLATE,
  };
  if (opts.certDir !== undefined) {
    const refresh = opts.refreshIntervalSeconds ?? 10;
    if (!(refresh > 0)) throw new Error(`refresh interval ${refresh}s: must be positive`);
    const files = opts.certFiles ?? {};
    const inDir = (name: string): string => path.resolve(opts.certDir!, name);
    bootstrap.certificate_providers = {
      [opts.certificateProviderName ?? DEFAULT_CERTIFICATE_PROVIDER]: {
        plugin_name: 'file_watcher',
        config: {
          certificate_file: inDir(files.certificate ?? 'cert.pem'),
          private_key_file: inDir(files.privateKey ?? 'key.pem'),
          ca_certificate_file: inDir(files.caCertificate ?? 'ca.pem'),
          refresh_interval: `${refresh}s`,
        },
      },
    };
  }
  return bootstrap;
}
