import * as fs from 'node:fs';
import { SdsFileAgent } from '../agent/sds-file-agent';
import { resolveSdsSocketPath } from '../sds/sds-server';
import { loadNodeCredentials, requireStateDir } from './state-dir';

export interface AgentCommandOptions {
  nodeId: string;
  dir: string;
  stateDir: string;
  sdsSocket?: string;
  tokenFile?: string;
}

/** `meshd agent`: runs until SIGINT/SIGTERM; resolves with the exit code. */
export function runAgent(opts: AgentCommandOptions): Promise<number> {
  const token = opts.tokenFile
    ? fs.readFileSync(opts.tokenFile, 'utf8').trim()
    : process.env.MESHD_NODE_TOKEN || loadNodeCredentials(opts.stateDir, 'agent').tokenFor(opts.nodeId);
  // A socket placed in a state directory that does not exist will never appear: say so now
  // rather than retry it forever.
  if (!opts.sdsSocket && !process.env.APPMESH_SDS_SOCKET_PATH) requireStateDir(opts.stateDir, 'agent');
  const agent = new SdsFileAgent({ nodeId: opts.nodeId, token, sdsSocket: resolveSdsSocketPath(opts.sdsSocket, opts.stateDir), dir: opts.dir });
  return new Promise((resolve) => {
    const stop = (code: number): void => {
      agent.stop();
      resolve(code);
    };
    agent.on('written', (w) => process.stderr.write(`meshd agent: ${opts.dir}: certificate ${w.serial} valid until ${w.notAfter.toISOString()}, ${w.caCount} CA(s) trusted\n`));
    agent.on('error', (err) => {
      process.stderr.write(`meshd agent: ${err.message}\n`);
      stop(1);
    });
    process.once('SIGINT', () => stop(0));
    process.once('SIGTERM', () => stop(0));
    agent.start();
  });
}
