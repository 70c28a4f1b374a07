import { NodeCredentials, CREDENTIAL_HEADER } from '../auth/node-credential';
import { buildEnvoyBootstrap, renderBootstrapYaml } from '../envoy/bootstrap';
import { buildGrpcBootstrap } from '../envoy/grpc-bootstrap';
import { resolveSdsSocketPath } from '../sds/sds-server';

export interface BootstrapCommandOptions {
  nodeId: string;
  xds: string;
  stateDir: string;
  adminPort: number;
  adminAddress?: string;
  grpc: boolean;
  sdsSocket?: string;
  certDir?: string;
}

/** `meshd bootstrap`: the node's bootstrap, carrying the credential meshd will check. */
export function runBootstrap(opts: BootstrapCommandOptions): { exitCode: number; output: string } {
  const credentials = NodeCredentials.loadOrCreate(opts.stateDir);
  const credential = { header: CREDENTIAL_HEADER, value: credentials.tokenFor(opts.nodeId) };
  if (opts.grpc) {
    const bootstrap = buildGrpcBootstrap({ nodeId: opts.nodeId, xdsAddress: opts.xds, credential, ...(opts.certDir ? { certDir: opts.certDir } : {}) });
    return { exitCode: 0, output: JSON.stringify(bootstrap, null, 2) };
  }
  const bootstrap = buildEnvoyBootstrap({
    nodeId: opts.nodeId,
    xdsAddress: opts.xds,
    sdsSocketPath: resolveSdsSocketPath(opts.sdsSocket, opts.stateDir),
    adminPort: opts.adminPort,
    ...(opts.adminAddress ? { adminAddress: opts.adminAddress } : {}),
    credential,
  });
  return { exitCode: 0, output: renderBootstrapYaml(bootstrap) };
}
