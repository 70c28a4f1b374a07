import * as fs from 'node:fs';
import { NodeCredentials } from '../auth/node-credential';
import { SdsFileAgent } from '../agent/sds-file-agent';
import { resolveSdsSocketPath } from '../sds/sds-server';

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
    : process.env.MESHD_NODE_TOKEN || NodeCredentials.loadOrCreate(opts.stateDir).tokenFor(opts.nodeId);
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
