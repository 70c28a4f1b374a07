import { strict as assert } from 'node:assert';
import { detectBackend, SKIP_LINE, type DetectInputs } from './detect';

function inputs(env: NodeJS.ProcessEnv, engine: boolean, executables: string[] = []): DetectInputs {
  return { env, dockerEngineAnswers: () => engine, isExecutable: (file) => executables.includes(file) };
}

describe('envoy-e2e/detect', () => {
  it('skips with the one line when neither a Docker engine nor ENVOY_BIN is present', () => {
    const backend = detectBackend(inputs({}, false));
    assert.deepEqual(backend, { kind: 'none', reason: SKIP_LINE });
    assert.ok(!SKIP_LINE.includes('\n'));
    assert.match(SKIP_LINE, /neither a Docker engine .* nor ENVOY_BIN/);
  });

  it('prefers a Docker engine that answers, then an executable ENVOY_BIN', () => {
    assert.deepEqual(detectBackend(inputs({ ENVOY_BIN: '/opt/envoy' }, true, ['/opt/envoy'])), { kind: 'docker' });
    assert.deepEqual(detectBackend(inputs({ ENVOY_BIN: '/opt/envoy' }, false, ['/opt/envoy'])), { kind: 'envoy-bin', bin: '/opt/envoy' });
  });

  it('fails, rather than skips, when ENVOY_BIN is set but not executable', () => {
    const backend = detectBackend(inputs({ ENVOY_BIN: '/nowhere/envoy' }, false));
    assert.equal(backend.kind, 'unusable');
    assert.match((backend as { reason: string }).reason, /ENVOY_BIN=\/nowhere\/envoy is not an executable file/);
  });

  it('honours MESHD_ENVOY_MODE and says why a forced backend cannot run', () => {
    assert.deepEqual(detectBackend(inputs({ MESHD_ENVOY_MODE: 'envoy-bin', ENVOY_BIN: '/opt/envoy' }, true, ['/opt/envoy'])), { kind: 'envoy-bin', bin: '/opt/envoy' });
    assert.equal(detectBackend(inputs({ MESHD_ENVOY_MODE: 'docker' }, false)).kind, 'unusable');
    assert.equal(detectBackend(inputs({ MESHD_ENVOY_MODE: 'podman' }, true)).kind, 'unusable');
  });

  it('runs the real check on this machine without throwing', () => {
    const backend = detectBackend();
    assert.ok(['docker', 'envoy-bin', 'none', 'unusable'].includes(backend.kind));
  });
});
