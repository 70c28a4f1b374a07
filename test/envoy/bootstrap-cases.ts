// Representative bootstraps meshd generates, named so that other tests (e.g. a PGV field-constraint
// check) can validate the very objects the bootstrap tests exercise.
import { buildEnvoyBootstrap, type EnvoyBootstrapOptions, type ProtoObject } from '../../src/envoy/bootstrap';

const credential = { header: 'x-meshd-node-token', value: 'tok-front-3f9a' };

/** Options for each representative case: loopback TCP, a DNS name, a Unix socket, a gateway ARN. */
export const BOOTSTRAP_CASE_OPTIONS: Readonly<Record<string, EnvoyBootstrapOptions>> = {
  'loopback tcp': { nodeId: 'mesh/colorapp/virtualNode/front', sdsSocketPath: '/run/meshd/sds.sock', credential },
  'dns name': { nodeId: 'mesh/colorapp/virtualNode/color-blue', xdsAddress: 'meshd.internal:18000', sdsSocketPath: '/run/meshd/sds.sock', credential, adminPort: 19901 },
  'unix socket': { nodeId: 'mesh/colorapp/virtualNode/front', xdsAddress: 'unix:/run/meshd/xds.sock', sdsSocketPath: '/run/meshd/sds.sock', credential },
  'gateway arn': {
    nodeId: 'arn:aws:appmesh:us-west-2:123456789012:mesh/colorapp/virtualGateway/ingress-gw',
    xdsAddress: '[::1]:18000', sdsSocketPath: '/run/meshd/sds.sock', credential, adminAddress: '0.0.0.0',
  },
};

/** The bootstrap object of every representative case. */
export function representativeBootstraps(): Array<{ name: string; bootstrap: ProtoObject }> {
  return Object.entries(BOOTSTRAP_CASE_OPTIONS).map(([name, opts]) => ({ name, bootstrap: buildEnvoyBootstrap(opts) }));
}
