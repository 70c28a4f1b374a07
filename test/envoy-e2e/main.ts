// `npm run test:envoy`: runs the Envoy scenarios with a Docker engine or ENVOY_BIN, or prints one
// line saying neither is present and exits 0. Each scenario gets a fresh mesh (meshd, apps, one
// Envoy per endpoint), torn down afterwards; a failed scenario keeps its files and logs.
//   MESHD_ENVOY_MODE=docker|envoy-bin   force a backend
//   MESHD_ENVOY_SCENARIOS=1,4           run only these scenarios
import { detectBackend, type EnvoyBackend } from './detect';
import { dockerMeshFactory } from './docker-mode';
import type { MeshFactory } from './harness';
import { localMeshFactory } from './runner';
import { SkipStep, type Scenario } from './scenario-support';
import { meshdRestart, rotation, specError } from './scenarios-ops';
import { migration, sanMismatch, strictMtls } from './scenarios-tls';

export const SCENARIOS: readonly Scenario[] = [strictMtls, migration, sanMismatch, rotation, specError, meshdRestart];

/** The scenarios MESHD_ENVOY_SCENARIOS selects (by leading number), all when unset. */
export function selectScenarios(selection: string | undefined, all: readonly Scenario[] = SCENARIOS): Scenario[] {
  if (!selection?.trim()) return [...all];
  const wanted = new Set(selection.split(',').map((s) => s.trim()).filter(Boolean));
  const chosen = all.filter((s) => wanted.has(s.name.split(' ')[0]!));
  if (chosen.length !== wanted.size) throw new Error(`MESHD_ENVOY_SCENARIOS=${selection}: known scenarios are ${all.map((s) => s.name.split(' ')[0]).join(', ')}`);
  return chosen;
}

function factoryFor(backend: Extract<EnvoyBackend, { kind: 'docker' | 'envoy-bin' }>): MeshFactory {
  return backend.kind === 'docker' ? dockerMeshFactory() : localMeshFactory(backend.bin);
}

/** Runs the selected scenarios; returns the exit code. */
export async function runEnvoyScenarios(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<number> {
  const backend = detectBackend();
  if (backend.kind === 'none') {
    write(backend.reason);
    return 0;
  }
  if (backend.kind === 'unusable') {
    write(`test:envoy: cannot run: ${backend.reason}`);
    return 1;
  }
  const scenarios = selectScenarios(process.env.MESHD_ENVOY_SCENARIOS);
  const factory = factoryFor(backend);
  write(`test:envoy: ${scenarios.length} scenario(s) with ${backend.kind === 'docker' ? 'docker compose' : `ENVOY_BIN=${backend.bin}`}`);
  let passed = 0;
  const failed: string[] = [];
  for (const scenario of scenarios) {
    const started = Date.now();
    write(`- scenario ${scenario.name}`);
    let mesh;
    try {
      mesh = await factory(scenario.start(backend.kind));
      await scenario.run(mesh, (line) => write(`    ${line}`));
      await mesh.close();
      passed++;
      write(`  ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (err) {
      if (err instanceof SkipStep) {
        await mesh?.close();
        write(`  skipped: ${err.message}`);
        continue;
      }
      failed.push(scenario.name);
      write(`  FAILED: ${(err as Error).message}`);
      if (mesh) {
        await mesh.close(true).catch(() => undefined);
        write(`  (files and logs kept in ${mesh.workDir})`);
      }
    }
  }
  write(`test:envoy: ${passed} passed, ${failed.length} failed${failed.length ? ` (${failed.join('; ')})` : ''}`);
  return failed.length > 0 ? 1 : 0;
}

if (require.main === module) {
  runEnvoyScenarios().then((code) => { process.exitCode = code; }, (err: Error) => {
    process.stderr.write(`test:envoy: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  });
}
