import { CREDENTIAL_HEADER } from '../auth/node-credential';
import { buildEnvoyBootstrap, renderBootstrapYaml } from '../envoy/bootstrap';
import { buildGrpcBootstrap } from '../envoy/grpc-bootstrap';
import { resolveSdsSocketPath } from '../sds/sds-server';
import { EGRESS_PORT_METADATA, INGRESS_PORT_METADATA } from '../runtime/port-overrides';
import { loadMesh } from '../model/load-mesh';
import { formatError } from '../spec/errors';
import { parseNodeId } from '../identity/endpoint-id';
import { loadNodeCredentials } from './state-dir';

export interface BootstrapCommandOptions {
  nodeId: string;
  /** meshd's ADS address, or one per replica (the xDS cluster / gRPC target gets them all). */
  xds: readonly string[];
  stateDir: string;
  adminPort: number;
  adminAddress?: string;
  ingressPort?: number;
  egressPort?: number;
  grpc: boolean;
  sdsSocket?: string;
  certDir?: string;
  /** Mesh spec directory to check the node against; absent: not checked (and a notice says so). */
  config?: string;
  /** Trust domain the specs are validated for (with `config`). */
  trustDomain?: string;
}

export interface BootstrapResult {
  exitCode: number;
  output: string;
  /** A line for stderr alongside the bootstrap. */
  notice?: string;
}

/** `meshd bootstrap`: the node's bootstrap, carrying the credential meshd will check. */
export async function runBootstrap(opts: BootstrapCommandOptions): Promise<BootstrapResult> {
  const endpointKey = parseNodeId(opts.nodeId).key;
  const credentials = loadNodeCredentials(opts.stateDir, 'bootstrap');
  let notice: string | undefined;
  if (opts.config) await requireEndpointInMesh(endpointKey, opts.config, opts.trustDomain);
  else notice = `meshd bootstrap: ${endpointKey} was not checked against a mesh; pass --config DIR to refuse a node that is not in it`;
  const built = buildBootstrap(opts, credentials.tokenFor(opts.nodeId));
  return notice ? { ...built, notice } : built;
}

/** A credential for an endpoint the mesh does not have would work, for nothing: refuse it. */
async function requireEndpointInMesh(endpointKey: string, configDir: string, trustDomain: string | undefined): Promise<void> {
  const loaded = await loadMesh(configDir, trustDomain ? { trustDomain } : {});
  if (!loaded.ok) {
    const errors = loaded.errors.map(formatError);
    throw new Error(`bootstrap: --config ${configDir} does not load (${errors.length} error${errors.length === 1 ? '' : 's'}; \`meshd validate ${configDir}\` lists them), so ${endpointKey} cannot be checked:\n${errors.slice(0, 5).join('\n')}`);
  }
  const known = Object.keys(loaded.model.endpoints).sort();
  if (known.includes(endpointKey)) return;
  throw new Error(`bootstrap: ${endpointKey} is not an endpoint of the mesh in ${configDir}; its endpoints are: ${known.length > 0 ? known.join(', ') : '(none)'}`);
}

function buildBootstrap(opts: BootstrapCommandOptions, token: string): BootstrapResult {
  const credential = { header: CREDENTIAL_HEADER, value: token };
  const ports: Record<string, number> = {};
  if (opts.ingressPort) ports[INGRESS_PORT_METADATA] = opts.ingressPort;
  if (opts.egressPort) ports[EGRESS_PORT_METADATA] = opts.egressPort;
  if (opts.grpc) {
    if (Object.keys(ports).length > 0) throw new Error('--ingress-port and --egress-port are for Envoy; a proxyless gRPC service listens where its own listeners say');
    const bootstrap = buildGrpcBootstrap({ nodeId: opts.nodeId, xdsAddresses: opts.xds, credential, ...(opts.certDir ? { certDir: opts.certDir } : {}) });
    return { exitCode: 0, output: JSON.stringify(bootstrap, null, 2) };
  }
  const bootstrap = buildEnvoyBootstrap({
    nodeId: opts.nodeId,
    xdsAddresses: opts.xds,
    sdsSocketPath: resolveSdsSocketPath(opts.sdsSocket, opts.stateDir),
    adminPort: opts.adminPort,
    ...(Object.keys(ports).length > 0 ? { nodeMetadata: ports } : {}),
    ...(opts.adminAddress ? { adminAddress: opts.adminAddress } : {}),
    credential,
  });
  return { exitCode: 0, output: renderBootstrapYaml(bootstrap) };
}
