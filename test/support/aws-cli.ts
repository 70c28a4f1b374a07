// The AWS CLI, when this machine has it: v2 from Debian's `awscli` (/usr/bin/aws) first, else an
// `aws` on PATH; MESHD_AWS_CLI names another. Runs it with only the credentials given.
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

export interface AwsCli {
  readonly bin: string;
  readonly version: string;
}

export function findAwsCli(): AwsCli | undefined {
  const candidates = [process.env.MESHD_AWS_CLI, '/usr/bin/aws', 'aws'].filter((c): c is string => Boolean(c));
  for (const bin of candidates) {
    if (bin.startsWith('/') && !fs.existsSync(bin)) continue;
    try {
      const version = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }).trim();
      if (version.startsWith('aws-cli/')) return { bin, version };
    } catch {
      // not this one
    }
  }
  return undefined;
}

export interface AwsCliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `aws <args>` against `endpoint`, signed with the given key, no config files, no pager, no retries. */
export function runAws(cli: AwsCli, args: string[], options: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; cwd?: string }): Promise<AwsCliRun> {
  return new Promise((resolve) => {
    execFile(cli.bin, [...args, '--endpoint-url', options.endpoint, '--output', 'json'], {
      cwd: options.cwd,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        HOME: options.cwd ?? process.env.HOME,
        AWS_ACCESS_KEY_ID: options.accessKeyId,
        AWS_SECRET_ACCESS_KEY: options.secretAccessKey,
        AWS_DEFAULT_REGION: options.region,
        AWS_CONFIG_FILE: '/nonexistent/aws-config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
        AWS_PAGER: '',
        AWS_MAX_ATTEMPTS: '1',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
