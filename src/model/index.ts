// Public surface of the mesh model: building it, loading it from a directory, identities, diffs.
export * from './types';
export { buildModel, type BuildOptions, type BuildResult } from './build';
export { loadMesh, diffModels, type LoadMeshOptions, type ModelDiff } from './load-mesh';
export { clientPolicyAppliesTo } from './tls';
export { meshdDefaults } from './endpoint-facts';
export { contentHash, canonicalJson } from './hash';
export { formatErrors, formatError, type SpecError } from '../spec/errors';
