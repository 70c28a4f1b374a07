// What `meshd serve` tells its operator once it is up: the command that writes an Envoy bootstrap
// for this very meshd (it must work exactly as printed, so it carries every non-default address),
// and warnings for listeners reachable beyond loopback without MESHD_ADMIN_TOKEN.
import * as path from 'node:path';
import { isLoopbackAddress } from '../admin/server';
import { DEFAULT_XDS_ADDRESS } from '../envoy/bootstrap';
import { parseXdsAddress } from '../xds/address';

export interface BootstrapHintInput {
  nodeId: string;
  /** An ADS address meshd is bound to (`host:port`, `[v6]:port`, `unix:/path`). */
  xds: string;
  /** The SDS socket meshd listens on (absolute). */
  sdsSocket: string;
  /** The state directory as the operator gave it. */
  stateDir: string;
  /** The script that runs meshd (process.argv[1]) and the working directory, to print the same invocation. */
  script: string;
  cwd: string;
}

/** A word the shell passes through unchanged, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A path as short as it can be while still working from `cwd`: relative inside it, else absolute. */
function displayPath(file: string, cwd: string): string {
  const absolute = path.resolve(cwd, file);
  const relative = path.relative(cwd, absolute);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : absolute;
}

/**
 * How meshd was started: `meshd` when run from PATH (npm link, a package install), else
 * `node <script>` as in a checkout (`node bin/meshd.js`).
 */
function invocation(script: string, cwd: string): string {
  if (path.basename(script) === 'meshd') return 'meshd';
  return `node ${shellWord(displayPath(script, cwd))}`;
}

/** The address a proxy on this host dials for a bound ADS address (a wildcard is dialled on loopback). */
function dialAddress(bound: string, cwd: string): string {
  const address = parseXdsAddress(bound);
  if (address.kind === 'unix') return `unix:${displayPath(address.path, cwd)}`;
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return host.includes(':') ? `[${host}]:${address.port}` : `${host}:${address.port}`;
}

/** `meshd bootstrap ...` for `nodeId`, with the ADS address, SDS socket and state directory this meshd uses. */
export function bootstrapHint(input: BootstrapHintInput): string {
  const words = [invocation(input.script, input.cwd), 'bootstrap'];
  const xds = dialAddress(input.xds, input.cwd);
  if (xds !== DEFAULT_XDS_ADDRESS) words.push('--xds', xds);
  words.push('--state-dir', displayPath(input.stateDir, input.cwd));
  // bootstrap's own default is <state-dir>/sds.sock (or $APPMESH_SDS_SOCKET_PATH, which the shell
  // running the command may not have): name the socket unless it is that file.
  if (path.resolve(input.sdsSocket) !== path.resolve(input.cwd, input.stateDir, 'sds.sock')) words.push('--sds-socket', displayPath(input.sdsSocket, input.cwd));
  words.push('--node', input.nodeId);
  return words.map((word, i) => (i === 0 ? word : shellWord(word))).join(' ');
}

export interface ExposureInput {
  /** ADS addresses meshd is bound to. */
  xds: readonly string[];
  /** The admin server's URL, when it runs. */
  adminUrl?: string;
  adminToken?: string;
}

/** One warning per listener reachable beyond loopback while no MESHD_ADMIN_TOKEN is set. */
export function exposureWarnings(input: ExposureInput): string[] {
  if (input.adminToken) return [];
  const warnings: string[] = [];
  for (const bound of input.xds) {
    const address = parseXdsAddress(bound);
    if (address.kind === 'tcp' && !isLoopbackAddress(address.host)) {
      warnings.push(`ADS listens on ${bound} beyond loopback without MESHD_ADMIN_TOKEN: CSDS on that port shows every node's configuration to anyone who can reach it; set MESHD_ADMIN_TOKEN`);
    }
  }
  if (input.adminUrl && !isLoopbackAddress(new URL(input.adminUrl).hostname.replace(/^\[|\]$/g, ''))) {
    warnings.push(`admin listens on ${input.adminUrl} beyond loopback without MESHD_ADMIN_TOKEN: its status, metrics and config dumps are open to anyone who can reach it, and rotation and CA rollover cannot be authorized from other hosts; set MESHD_ADMIN_TOKEN`);
  }
  return warnings;
}
