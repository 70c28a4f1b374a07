// Which way the Envoy scenarios can run here: a Docker engine (preferred: it is what operators
// use), else a local Envoy binary named by ENVOY_BIN, else none, which is a one-line skip.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

export type EnvoyBackend =
  | { kind: 'docker' }
  | { kind: 'envoy-bin'; bin: string }
  | { kind: 'none'; reason: string }
  /** Asked for explicitly (ENVOY_BIN or MESHD_ENVOY_MODE) but cannot run: a failure, not a skip. */
  | { kind: 'unusable'; reason: string };

/** The one line `npm run test:envoy` prints when it skips. */
export const SKIP_LINE = 'test:envoy: skipped: neither a Docker engine (docker info failed) nor ENVOY_BIN (an Envoy binary) is present';

export interface DetectInputs {
  env: NodeJS.ProcessEnv;
  /** Whether `docker info` succeeds (an engine answers, not only a client installed). */
  dockerEngineAnswers: () => boolean;
  /** Whether a path is an executable file. */
  isExecutable: (file: string) => boolean;
}

export function dockerEngineAnswers(): boolean {
  const result = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 15_000 });
  return result.status === 0 && result.stdout.toString().trim() !== '';
}

export function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Picks the backend. MESHD_ENVOY_MODE=docker|envoy-bin forces one (and reports why it cannot run);
 * otherwise Docker wins when its engine answers, then ENVOY_BIN.
 */
export function detectBackend(inputs: DetectInputs = { env: process.env, dockerEngineAnswers, isExecutable: isExecutableFile }): EnvoyBackend {
  const { env } = inputs;
  const bin = env.ENVOY_BIN?.trim();
  const forced = env.MESHD_ENVOY_MODE?.trim();
  const binBackend = (): EnvoyBackend => {
    if (!bin) return { kind: 'unusable', reason: 'MESHD_ENVOY_MODE=envoy-bin but ENVOY_BIN is not set' };
    if (!inputs.isExecutable(bin)) return { kind: 'unusable', reason: `ENVOY_BIN=${bin} is not an executable file` };
    return { kind: 'envoy-bin', bin };
  };
  if (forced === 'envoy-bin') return binBackend();
  if (forced === 'docker') return inputs.dockerEngineAnswers() ? { kind: 'docker' } : { kind: 'unusable', reason: 'MESHD_ENVOY_MODE=docker but `docker info` failed' };
  if (forced) return { kind: 'unusable', reason: `MESHD_ENVOY_MODE=${forced}: expected docker or envoy-bin` };
  if (inputs.dockerEngineAnswers()) return { kind: 'docker' };
  // ENVOY_BIN set but unusable is a mistake worth naming, not a silent skip.
  if (bin) return binBackend();
  return { kind: 'none', reason: SKIP_LINE };
}
