// The xDS bootstrap for proxyless gRPC services (gRFC A27, with A36's server listener template and
// A29's file_watcher certificate provider), as the JSON that GRPC_XDS_BOOTSTRAP points to.
// Pure: it only names files; it neither reads nor writes them.
import * as path from 'node:path';
import { DEFAULT_XDS_ADDRESS, nodeNameOf, type NodeCredential } from './bootstrap';
import { parseXdsAddress } from '../xds/address';

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

/** gRPC's target syntax for meshd's ADS address. */
function serverUri(xdsAddress: string): string {
  const address = parseXdsAddress(xdsAddress);
  if (address.kind === 'unix') return `unix://${path.resolve(address.path)}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Builds the gRPC xDS bootstrap JSON object for one proxyless node. */
export function buildGrpcBootstrap(opts: GrpcBootstrapOptions): GrpcBootstrap {
  const nodeName = nodeNameOf(opts.nodeId);
  const node: GrpcBootstrap['node'] = { id: opts.nodeId, cluster: opts.cluster ?? nodeName, locality: { ...opts.locality } };
  if (opts.credential) node.metadata = { [opts.credential.header]: opts.credential.value };
  const bootstrap: GrpcBootstrap = {
    xds_servers: [{
      server_uri: serverUri(opts.xdsAddress ?? DEFAULT_XDS_ADDRESS),
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
