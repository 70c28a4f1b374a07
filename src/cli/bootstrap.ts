import { NodeCredentials, CREDENTIAL_HEADER } from '../auth/node-credential';
import { buildEnvoyBootstrap, renderBootstrapYaml } from '../envoy/bootstrap';
import { buildGrpcBootstrap } from '../envoy/grpc-bootstrap';
import { resolveSdsSocketPath } from '../sds/sds-server';
import { EGRESS_PORT_METADATA, INGRESS_PORT_METADATA } from '../runtime/port-overrides';

export interface BootstrapCommandOptions {
  nodeId: string;
  xds: string;
  stateDir: string;
  adminPort: number;
  adminAddress?: string;
  ingressPort?: number;
  egressPort?: number;
  grpc: boolean;
  sdsSocket?: string;
  certDir?: string;
}

/** `meshd bootstrap`: the node's bootstrap, carrying the credential meshd will check. */
export function runBootstrap(opts: BootstrapCommandOptions): { exitCode: number; output: string } {
  const credentials = NodeCredentials.loadOrCreate(opts.stateDir);
  const credential = { header: CREDENTIAL_HEADER, value: credentials.tokenFor(opts.nodeId) };
  const ports: Record<string, number> = {};
  if (opts.ingressPort) ports[INGRESS_PORT_METADATA] = opts.ingressPort;
  if (opts.egressPort) ports[EGRESS_PORT_METADATA] = opts.egressPort;
  if (opts.grpc) {
    if (Object.keys(ports).length > 0) throw new Error('--ingress-port and --egress-port are for Envoy; a proxyless gRPC service listens where its own listeners say');
    const bootstrap = buildGrpcBootstrap({ nodeId: opts.nodeId, xdsAddress: opts.xds, credential, ...(opts.certDir ? { certDir: opts.certDir } : {}) });
    return { exitCode: 0, output: JSON.stringify(bootstrap, null, 2) };
  }
  const bootstrap = buildEnvoyBootstrap({
    nodeId: opts.nodeId,
    xdsAddress: opts.xds,
    sdsSocketPath: resolveSdsSocketPath(opts.sdsSocket, opts.stateDir),
    adminPort: opts.adminPort,
    ...(Object.keys(ports).length > 0 ? { nodeMetadata: ports } : {}),
    ...(opts.adminAddress ? { adminAddress: opts.adminAddress } : {}),
    credential,
  });
  return { exitCode: 0, output: renderBootstrapYaml(bootstrap) };
}
