// meshd's command line. Each command is a thin layer over a function that returns what to print
// and an exit code, so the functions are tested directly and the CLI stays small. A command's
// module is loaded when that command runs: `meshd serve` does not hold the importers, the
// verifier, the etcd store tools or the bootstrap renderer in memory.
import { Command, InvalidArgumentError, Option } from 'commander';
import * as path from 'node:path';
import type { ServeCommandOptions } from './serve';
// admin-action has no dependencies: nothing to gain from loading it late.
import { parseDurationSeconds, runAdminAction } from './admin-action';
import { stateRecoveryFromFlags } from './state-dir';
import { routeGrpcLogs } from './grpc-logging';
import { addSpecLimitOptions, specLimitsOf, type SpecLimitFlags } from './spec-limit-options';
import { defaultKeysFile } from '../api/keys';
import type { ImportOptions, ImportOutcome } from './import';
import { addEtcdClientOptions, type EtcdClientFlags } from './etcd-options';

export const DEFAULT_STATE_DIR = '.meshd';
export const DEFAULT_XDS = '127.0.0.1:18000';
export const DEFAULT_ADMIN = '127.0.0.1:18001';
export const DEFAULT_API = '127.0.0.1:18002';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
}

function octal(value: string): number {
  const mode = Number.parseInt(value, 8);
  if (!/^0?[0-7]{3}$/.test(value) || (mode & 0o007) !== 0) throw new InvalidArgumentError('must be an octal mode with no access for others, e.g. 600 or 660');
  return mode;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A repeatable flag that also takes comma-separated values (`--xds a --xds b` or `--xds a,b`). */
function collectList(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim()).filter((item) => item !== '')];
}

function finishImportCommand(outcome: ImportOutcome): void {
  if (outcome.output) process.stdout.write(outcome.output);
  process.stderr.write(`${outcome.report}\n`);
  process.exitCode = outcome.exitCode;
}

function finish(result: { exitCode: number; output: string }): void {
  if (result.output) process.stdout.write(result.output.endsWith('\n') ? result.output : `${result.output}\n`);
  process.exitCode = result.exitCode;
}

interface ApiFlags {
  api?: string | true;
  apiPublic?: boolean;
  apiKeys?: string;
  apiRegion: string;
  apiAccount: string;
  apiRate: number;
  apiBurst: number;
  apiMaxBody: number;
}

function apiSettings(opts: ApiFlags & { stateDir: string }): ServeCommandOptions['api'] {
  if (opts.api === undefined) return undefined;
  return {
    address: opts.api === true ? DEFAULT_API : opts.api,
    allowPublic: Boolean(opts.apiPublic),
    keysFile: path.resolve(opts.apiKeys ?? defaultKeysFile(opts.stateDir)),
    region: opts.apiRegion,
    account: opts.apiAccount,
    ratePerSecond: opts.apiRate,
    rateBurst: opts.apiBurst,
    maxBodyBytes: opts.apiMaxBody,
  };
}

export function buildProgram(): Command {
  const program = new Command('meshd')
    .description('Envoy control plane: xDS and SDS over gRPC for App Mesh-shaped specs, with mutual TLS made easy')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false });

  const serve = program.command('serve')
    .description('serve xDS (ADS) and SDS for the mesh specs in a directory, applying valid changes as they happen')
    .option('--config <dir>', 'directory of mesh specs (watched); or --store')
    .option('--store <url>', 'read the mesh from etcd, shared by replicas: etcd://HOST:PORT[,HOST:PORT…]/PREFIX (see meshd store import)')
    .option('--store-key-file <file>', 'with --store (required): key-encryption key sealing the CA and node-credential keys replicas share in etcd; 32 bytes, base64 (as `meshd store keygen` writes) or raw, mode 0600; every replica gets the same file')
    .option('--store-lease-ttl <seconds>', 'with --store: lease of the leader election, of each replica\'s rollover report and of its fleet entries (a dead replica is replaced, and leaves the fleet view, after this long)', integer, 10)
    .option('--replica-name <name>', 'with --store: this replica\'s name in the fleet view (default: host name and PID)')
    .option('--xds <addr>', 'ADS listen address, HOST:PORT or unix:PATH (repeatable)', collect, [])
    .option('--sds-socket <path>', 'SDS socket (default: $APPMESH_SDS_SOCKET_PATH, else <state-dir>/sds.sock)')
    .addOption(new Option('--sds-socket-mode <octal>', 'SDS socket file mode, e.g. 660 to share it with the Envoy user\'s group').argParser(octal).default(0o600, '0600'))
    .option('--state-dir <dir>', 'state directory: CA, node credential key, SDS socket', DEFAULT_STATE_DIR)
    .option('--trust-domain <name>', 'SPIFFE trust domain of issued certificates', 'meshd.local')
    .option('--leaf-ttl <seconds>', 'lifetime of issued leaf certificates', integer, 24 * 3600)
    .option('--admin <addr>', 'admin HTTP address: health, metrics, status, config dump, rotation', DEFAULT_ADMIN)
    .option('--no-admin', 'run without the admin server')
    .option('--admin-public', 'allow the admin server on a non-loopback address (POST actions then need MESHD_ADMIN_TOKEN)')
    .option('--adopt-ca', 'recovery, when serve refuses damaged CA state: rebuild ca/state.json from the CA directories present; a lost CA certificate is re-created from its kept key (proxies keep trusting it)')
    .option('--new-ca', 'recovery, when serve refuses damaged CA state: rename ca/ aside (nothing is deleted) and create a new CA; every proxy must then receive the new trust bundle')
    .option('--new-node-key', 'recovery, when node-credential.key is missing or damaged beside a CA: create a new key; every bootstrap printed before stops working')
    .option('--api [addr]', `serve the App Mesh API (REST-JSON 2019-01-25, SigV4) on HOST:PORT; writes land in --config (default ${DEFAULT_API})`)
    .option('--api-public', 'allow the App Mesh API on a non-loopback address')
    .option('--api-keys <file>', 'access keys the API accepts (default <state-dir>/api-keys.json; see meshd api-keys)')
    .option('--api-region <region>', 'region of API signatures and ARNs', 'us-east-1')
    .option('--api-account <id>', 'account id in ARNs, meshOwner and resourceOwner', '000000000000')
    .option('--api-rate <n>', 'API requests per second per key (more get TooManyRequestsException)', integer, 20)
    .option('--api-burst <n>', 'API requests a key may make at once', integer, 40)
    .option('--api-max-body <bytes>', 'largest API request body accepted', integer, 1024 * 1024)
    .addHelpText('after', '\nOnly serve creates a state directory, and a new CA only where it holds no CA material at all. A partial or inconsistent '
      + 'state directory is refused, naming the file; restore it from a backup or choose a recovery flag (they do nothing to intact state).\n');
  addEtcdClientOptions(addSpecLimitOptions(serve))
    .action(async (opts: { config?: string; store?: string; storeKeyFile?: string; storeLeaseTtl: number; replicaName?: string; xds: string[]; sdsSocket?: string; sdsSocketMode: number; stateDir: string; trustDomain: string; leafTtl: number; admin: string | false; adminPublic?: boolean; adoptCa?: boolean; newCa?: boolean; newNodeKey?: boolean } & SpecLimitFlags & ApiFlags & EtcdClientFlags) => {
      const { adoptCa, newCa, newNodeKey, etcdCa, etcdCert, etcdKey, etcdUser, etcdPasswordFile, ...serveOpts } = opts;
      const { runServe } = await import('./serve');
      process.exitCode = await runServe({
        ...serveOpts,
        etcd: { etcdCa, etcdCert, etcdKey, etcdUser, etcdPasswordFile },
        stateRecovery: stateRecoveryFromFlags({ adoptCa, newCa, newNodeKey }),
        specLimits: specLimitsOf(opts),
        api: apiSettings(opts),
        xds: opts.xds.length > 0 ? opts.xds : [DEFAULT_XDS],
        admin: opts.admin === false ? undefined : opts.admin,
        adminPublic: Boolean(opts.adminPublic),
        adminToken: process.env.MESHD_ADMIN_TOKEN,
      });
    });

  program.command('status')
    .description('show connected proxies and what each has accepted; exits 1 when any is out of sync')
    .option('--admin <url>', "meshd's admin URL", `http://${DEFAULT_ADMIN}`)
    .option('--stale-after <seconds>', 'a version not ACKed within this long counts as out of sync', integer, 30)
    .option('--json', 'print JSON')
    .option('--edges', 'print every caller -> service -> provider path with its TLS posture (mTLS with or without SAN check, one-way TLS, PERMISSIVE, plaintext, broken) and its proxies in sync; exits 1 when a path is broken')
    .action(async (opts: { admin: string; staleAfter: number; json?: boolean; edges?: boolean }) => {
      if (opts.edges) {
        const { runStatusEdges } = await import('./status-edges');
        finish(await runStatusEdges({ adminUrl: opts.admin, json: Boolean(opts.json) }));
        return;
      }
      const { runStatus } = await import('./status');
      finish(await runStatus({ adminUrl: opts.admin, json: Boolean(opts.json), staleAfterSeconds: opts.staleAfter, color: Boolean(process.stdout.isTTY) }));
    });

  const certs = program.command('certs').description('certificate operations on a running meshd');
  certs.command('rotate')
    .description('re-issue leaf certificates now (all, or one node\'s) and push them to subscribed proxies')
    .option('--node <id>', 'only this node')
    .option('--admin <url>', "meshd's admin URL", `http://${DEFAULT_ADMIN}`)
    .action(async (opts: { node?: string; admin: string }) => {
      finish(await runAdminAction({ adminUrl: opts.admin, path: '/rotate', ...(opts.node ? { node: opts.node } : {}), ...(process.env.MESHD_ADMIN_TOKEN ? { token: process.env.MESHD_ADMIN_TOKEN } : {}) }));
    });
  certs.command('dev')
    .description('write a development CA and an example certificate + key (0600) per endpoint of a mesh, for trying `file` certificate sources')
    .requiredOption('--config <dir>', 'directory of mesh specs whose endpoints get certificates')
    .option('--dir <dir>', 'where to write them', 'certs-dev/files')
    .option('--trust-domain <name>', 'SPIFFE trust domain', 'meshd.local')
    .action(async (opts: { config: string; dir: string; trustDomain: string }) => {
      const { runDevCerts } = await import('./dev-certs');
      finish(await runDevCerts(opts.config, opts.dir, opts.trustDomain));
    });

  const ca = program.command('ca').description('CA operations on a running meshd');
  ca.command('rollover')
    .description('start a CA rollover: the bundle trusts old and new CA, leaves move to the new CA, the old CA leaves the bundle after')
    .option('--admin <url>', "meshd's admin URL", `http://${DEFAULT_ADMIN}`)
    .action(async (opts: { admin: string }) => {
      finish(await runAdminAction({ adminUrl: opts.admin, path: '/ca/rollover', ...(process.env.MESHD_ADMIN_TOKEN ? { token: process.env.MESHD_ADMIN_TOKEN } : {}) }));
    });

  const credentials = program.command('credentials').description('node credentials (the tokens in every bootstrap) on a running meshd');
  credentials.command('rotate')
    .description('make a new node credential key; credentials made with the old one stay accepted for the overlap, then their streams end (print every bootstrap again before)')
    .option('--overlap <duration>', 'how long the old key stays accepted: 90s, 30m, 24h, 7d', '24h')
    .option('--admin <url>', "meshd's admin URL", `http://${DEFAULT_ADMIN}`)
    .action(async (opts: { overlap: string; admin: string }) => {
      const overlap = parseDurationSeconds(opts.overlap, '--overlap');
      finish(await runAdminAction({ adminUrl: opts.admin, path: '/credentials/rotate', params: { overlap: String(overlap) }, ...(process.env.MESHD_ADMIN_TOKEN ? { token: process.env.MESHD_ADMIN_TOKEN } : {}) }));
    });
  credentials.command('revoke')
    .description("revoke one node's credentials: its streams end now and its earlier bootstraps are refused; `meshd bootstrap` then prints it a new one")
    .requiredOption('--node <id>', 'node id: mesh/<mesh>/virtualNode/<name> or mesh/<mesh>/virtualGateway/<name>')
    .option('--admin <url>', "meshd's admin URL", `http://${DEFAULT_ADMIN}`)
    .action(async (opts: { node: string; admin: string }) => {
      finish(await runAdminAction({ adminUrl: opts.admin, path: '/credentials/revoke', node: opts.node, ...(process.env.MESHD_ADMIN_TOKEN ? { token: process.env.MESHD_ADMIN_TOKEN } : {}) }));
    });

  const validate = program.command('validate')
    .description('check a directory of mesh specs (or one spec file); print every error (file, resource, field) and exit non-zero on any')
    .argument('<dir|file>', 'directory of .yaml/.yml/.json mesh specs, or one such file')
    .option('--trust-domain <name>', 'SPIFFE trust domain meshd issues certificates in', 'meshd.local');
  addSpecLimitOptions(validate)
    .action(async (source: string, opts: { trustDomain: string } & SpecLimitFlags) => {
      const { runValidate } = await import('./validate');
      finish(await runValidate(source, opts.trustDomain, specLimitsOf(opts)));
    });

  program.command('bootstrap')
    .description('print a bootstrap for a node: Envoy YAML by default, gRPC xDS JSON with --grpc')
    .requiredOption('--node <id>', 'node id: mesh/<mesh>/virtualNode/<name> or mesh/<mesh>/virtualGateway/<name>')
    .option('--xds <addr>', `meshd ADS address (HOST:PORT or unix:PATH; default ${DEFAULT_XDS}); for several replicas repeat it or comma-separate: Envoy gets one endpoint per replica, --grpc one multi-address target (IP addresses)`, collectList, [])
    .option('--sds-socket <path>', 'SDS socket path (default: $APPMESH_SDS_SOCKET_PATH, else <state-dir>/sds.sock)')
    .option('--admin-port <n>', 'Envoy admin port', integer, 9901)
    .option('--admin-address <ip>', 'Envoy admin bind address (0.0.0.0 inside a container)', '127.0.0.1')
    .option('--ingress-port <n>', "this proxy's ingress listener port, instead of the spec's meshd.ingressPort (callers still use the spec's)", integer)
    .option('--egress-port <n>', "this proxy's egress listener port, instead of the spec's meshd.egressPort", integer)
    .option('--state-dir <dir>', 'the state directory `meshd serve` uses (holds the key that signs node credentials; never created here)', DEFAULT_STATE_DIR)
    .option('--config <dir>', 'mesh spec directory: refuse a node that is not one of its endpoints')
    .option('--trust-domain <name>', 'with --config: SPIFFE trust domain the specs are validated for', 'meshd.local')
    .option('--grpc', 'print a gRPC xDS bootstrap (JSON) for a proxyless service instead')
    .option('--cert-dir <dir>', 'with --grpc: directory of the certificate files `meshd agent` keeps current')
    .action(async (opts: { node: string; xds: string[]; sdsSocket?: string; adminPort: number; adminAddress: string; ingressPort?: number; egressPort?: number; stateDir: string; config?: string; trustDomain: string; grpc?: boolean; certDir?: string }) => {
      const { runBootstrap } = await import('./bootstrap');
      const result = await runBootstrap({
        nodeId: opts.node,
        xds: opts.xds.length > 0 ? opts.xds : [DEFAULT_XDS],
        stateDir: path.resolve(opts.stateDir),
        adminPort: opts.adminPort,
        adminAddress: opts.adminAddress,
        ...(opts.ingressPort ? { ingressPort: opts.ingressPort } : {}),
        ...(opts.egressPort ? { egressPort: opts.egressPort } : {}),
        grpc: Boolean(opts.grpc),
        ...(opts.sdsSocket ? { sdsSocket: opts.sdsSocket } : {}),
        ...(opts.certDir ? { certDir: opts.certDir } : {}),
        ...(opts.config ? { config: path.resolve(opts.config), trustDomain: opts.trustDomain } : {}),
      });
      if (result.notice) process.stderr.write(`${result.notice}\n`);
      finish(result);
    });

  program.command('verify')
    .description("read an Envoy's /stats, /certs and /config_dump and report TLS per listener and cluster; non-zero on mTLS problems")
    .requiredOption('--envoy-admin <url>', 'Envoy admin URL, e.g. http://127.0.0.1:9901')
    .option('--strict', 'also fail on TLS connection errors, plaintext on TLS listeners, and an unknown TLS posture (/config_dump unreadable)')
    .option('--expiry-days <n>', 'certificates expiring within this many days are findings: failures, except short-lived ones (a lifetime under n days, rotated), which fail only with less than a quarter of their lifetime left', integer, 7)
    .option('--json', 'print JSON')
    .action(async (opts: { envoyAdmin: string; strict?: boolean; expiryDays: number; json?: boolean }) => {
      const { runVerify } = await import('../verify/verify');
      finish(await runVerify({ envoyAdmin: opts.envoyAdmin, strict: Boolean(opts.strict), expiryDays: opts.expiryDays, json: Boolean(opts.json) }));
    });

  program.command('agent')
    .description("keep a node's certificate, private key (0600) and CA bundle files current from meshd's SDS")
    .requiredOption('--node <id>', 'node id: mesh/<mesh>/virtualNode/<name>')
    .requiredOption('--dir <dir>', 'directory for cert.pem, key.pem and ca.pem')
    .option('--sds-socket <path>', 'SDS socket path (default: $APPMESH_SDS_SOCKET_PATH, else <state-dir>/sds.sock)')
    .option('--token-file <file>', "file holding the node's credential (default: $MESHD_NODE_TOKEN, else derived from --state-dir)")
    .option('--state-dir <dir>', 'the state directory `meshd serve` uses, on the same host (never created here)', DEFAULT_STATE_DIR)
    .action(async (opts: { node: string; dir: string; sdsSocket?: string; tokenFile?: string; stateDir: string }) => {
      const { runAgent } = await import('./agent');
      process.exitCode = await runAgent({ nodeId: opts.node, dir: opts.dir, stateDir: path.resolve(opts.stateDir), ...(opts.sdsSocket ? { sdsSocket: opts.sdsSocket } : {}), ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}) });
    });

  const apiKeys = program.command('api-keys').description('access keys for the App Mesh API (serve --api): SigV4, read-only or read-write');
  const keysFileOption = '--keys-file <file>';
  const keysFileHelp = 'keys file (default <state-dir>/api-keys.json)';
  const keysFileOf = (opts: { keysFile?: string; stateDir: string }): string => path.resolve(opts.keysFile ?? defaultKeysFile(opts.stateDir));
  apiKeys.command('create')
    .description('create a key and print its id and secret (shown only now); the file is 0600')
    .option('--read-only', 'the key may only Describe and List')
    .option('--description <text>', 'what the key is for')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', 'meshd state directory', DEFAULT_STATE_DIR)
    .option(keysFileOption, keysFileHelp)
    .action(async (opts: { readOnly?: boolean; description?: string; json?: boolean; stateDir: string; keysFile?: string }) => {
      const { runApiKeysCreate } = await import('./api-keys');
      finish(runApiKeysCreate(keysFileOf(opts), opts.readOnly ? 'read-only' : 'read-write', opts.description, Boolean(opts.json)));
    });
  apiKeys.command('list')
    .description('list key ids, access and creation time (never secrets)')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', 'meshd state directory', DEFAULT_STATE_DIR)
    .option(keysFileOption, keysFileHelp)
    .action(async (opts: { json?: boolean; stateDir: string; keysFile?: string }) => {
      const { runApiKeysList } = await import('./api-keys');
      finish(runApiKeysList(keysFileOf(opts), Boolean(opts.json)));
    });
  apiKeys.command('revoke')
    .description('remove a key; a running meshd refuses it from its next request')
    .argument('<access-key-id>', 'the key to revoke')
    .option('--state-dir <dir>', 'meshd state directory', DEFAULT_STATE_DIR)
    .option(keysFileOption, keysFileHelp)
    .action(async (id: string, opts: { stateDir: string; keysFile?: string }) => {
      const { runApiKeysRevoke } = await import('./api-keys');
      finish(runApiKeysRevoke(keysFileOf(opts), id));
    });

  const importCommand = program.command('import')
    .description('convert an App Mesh deployment to meshd spec files: CloudFormation templates or the App Mesh controller\'s Kubernetes resources');
  const importOptions = (command: Command): Command => addSpecLimitOptions(command
    .option('--out <dir>', 'write one spec file per resource into this directory (default: print multi-document YAML on stdout)')
    .option('--check', 'convert and validate only; write nothing')
    .option('--trust-domain <name>', 'SPIFFE trust domain the result is validated for', 'meshd.local'));
  const importOptionsOf = (opts: { out?: string; check?: boolean; trustDomain: string } & SpecLimitFlags): ImportOptions => ({
    ...(opts.out !== undefined ? { out: opts.out } : {}), check: Boolean(opts.check), trustDomain: opts.trustDomain, limits: specLimitsOf(opts),
  });
  importOptions(importCommand.command('cloudformation')
    .description('import the AWS::AppMesh::* resources of CloudFormation templates (YAML or JSON; several at once for stacks that export to each other)')
    .argument('<template...>', 'template files, or directories of .yaml/.yml/.json/.template files')
    .option('--parameter <key=value>', 'a template parameter, pseudo parameter (AWS::Region), export name or Logical.Attribute of a resource not imported; TEMPLATE:KEY=VALUE for one template only (repeatable)', collect, []))
    .addHelpText('after', '\nParameters take --parameter values, else their Default. AWS::Region, AWS::AccountId and AWS::StackName are known only to a deployed stack: '
      + 'pass them when a template uses them. A resource without a name property is named by its logical ID. The report (stderr) counts what was imported and skipped '
      + 'and lists every warning and error; the exit code is 1 when the input cannot be converted or the result does not validate.\n')
    .action(async (templates: string[], opts: { parameter: string[]; out?: string; check?: boolean; trustDomain: string } & SpecLimitFlags) => {
      const { runImportCloudFormation } = await import('./import');
      finishImportCommand(await runImportCloudFormation(templates, opts.parameter, importOptionsOf(opts)));
    });

  importOptions(importCommand.command('k8s')
    .description('import the App Mesh controller\'s resources (appmesh.k8s.aws/v1beta2 Mesh, VirtualNode, VirtualService, VirtualRouter, VirtualGateway, GatewayRoute, BackendGroup)')
    .argument('<path...>', 'YAML/JSON manifests or `kubectl get … -o yaml` output, or directories of them; include the Namespace objects when meshes select namespaces by label'))
    .addHelpText('after', '\nNames follow the controller: spec.awsName, else <name>_<namespace> (<name>.<namespace> for a VirtualService). References and ARNs become names, '
      + 'VirtualRouter routes become Route resources, BackendGroups become backends. Selectors are dropped with a note, fields the CRD schema lacks with a warning; '
      + 'template leftovers (${VAR}, {{ }}, <placeholder>) are errors with file and line.\n')
    .action(async (paths: string[], opts: { out?: string; check?: boolean; trustDomain: string } & SpecLimitFlags) => {
      const { runImportK8s } = await import('./import');
      finishImportCommand(await runImportK8s(paths, importOptionsOf(opts)));
    });

  const storeCommand = program.command('store').description('mesh specs in a shared store (etcd) and a directory, one file per entry: GitOps and backups');
  const storeUrlHelp = 'the store: etcd://HOST:PORT[,HOST:PORT…]/PREFIX';
  addEtcdClientOptions(addSpecLimitOptions(storeCommand.command('import')
    .description('validate a directory of mesh specs, then put each file into the store (only what differs); replicas apply it')
    .argument('<dir>', 'directory of .yaml/.yml/.json mesh specs')
    .requiredOption('--store <url>', storeUrlHelp)
    .option('--prune', 'also remove entries that have no file in the directory')
    .option('--trust-domain <name>', 'SPIFFE trust domain the specs are validated for', 'meshd.local')))
    .action(async (dir: string, opts: { store: string; prune?: boolean; trustDomain: string } & SpecLimitFlags & EtcdClientFlags) => {
      const { runStoreImport } = await import('./store');
      finish(await runStoreImport(dir, { store: opts.store, prune: Boolean(opts.prune), trustDomain: opts.trustDomain, limits: specLimitsOf(opts), etcd: opts }));
    });
  storeCommand.command('keygen')
    .description('write a new key-encryption key for serve --store-key-file (32 random bytes, base64, mode 0600); never replaces a file')
    .argument('<file>', 'where to write it')
    .action(async (file: string) => {
      const { runStoreKeygen } = await import('./store');
      finish(runStoreKeygen(file));
    });
  addEtcdClientOptions(storeCommand.command('export')
    .description('write every entry of the store into a directory, one file each')
    .argument('<dir>', 'directory to write (created if missing)')
    .requiredOption('--store <url>', storeUrlHelp))
    .action(async (dir: string, opts: { store: string } & EtcdClientFlags) => {
      const { runStoreExport } = await import('./store');
      finish(await runStoreExport(dir, { store: opts.store, etcd: opts }));
    });

  program.addHelpText('after', '\nLogs are JSON lines on stderr; set MESHD_LOG_LEVEL (trace, debug, info, warn, error, silent) to change how much.');
  return program;
}

export async function main(argv: string[]): Promise<void> {
  routeGrpcLogs();
  await buildProgram().parseAsync(argv);
}
