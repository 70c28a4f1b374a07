// The entry point from a spec directory to a validated model, and the comparison a re-translation
// uses to touch only the endpoints whose inputs changed.
import { sortErrors, type SpecError } from '../spec/errors';
import type { SpecLimits } from '../spec/limits';
import { loadSpecDir, type LoadedSpecs } from '../spec/load';
import type { ParsedSpecCache } from '../spec/parse-cache';
import type { BuildMemo } from './build-memo';
import { buildModel, type BuildOptions, type BuildResult } from './build';
import type { MeshModel } from './types';

/** Options of `loadMesh`. */
export interface LoadMeshOptions {
  /** SPIFFE trust domain of meshd's CA (default `meshd.local`). */
  readonly trustDomain?: string;
  /** Spec file size, document and alias limits (default DEFAULT_SPEC_LIMITS). */
  readonly limits?: SpecLimits;
  /** Parsed files kept between loads of the same directory (a watcher's), so unchanged files are not parsed again. */
  readonly parseCache?: ParsedSpecCache;
  /** With `parseCache`: the files that may have changed since its last load (the rest are not read again). */
  readonly changedFiles?: ReadonlySet<string>;
  /** The last build of the same source (a watcher's), so a change rebuilds only what it touches. */
  readonly buildMemo?: BuildMemo;
}

/** Load, validate and build the mesh in `dir`; every error found is returned at once. */
export async function loadMesh(dir: string, options: LoadMeshOptions = {}): Promise<BuildResult> {
  return buildLoadedMesh(await loadSpecDir(dir, options.limits, options.parseCache, options.changedFiles), options);
}

/** Validate and build the mesh of specs already read (from a directory or a store); every error at once. */
export function buildLoadedMesh(loaded: LoadedSpecs, options: Pick<LoadMeshOptions, 'trustDomain' | 'buildMemo'> = {}): BuildResult {
  const buildOptions: BuildOptions = { invalid: loaded.invalid, ...(options.trustDomain ? { trustDomain: options.trustDomain } : {}) };
  const built = options.buildMemo ? options.buildMemo.build(loaded.resources, buildOptions) : buildModel(loaded.resources, buildOptions);
  const errors: SpecError[] = [...loaded.errors, ...(built.ok ? [] : built.errors)];
  if (errors.length > 0) return { ok: false, errors: sortErrors(errors), warnings: built.ok ? built.model.warnings : built.warnings };
  return built;
}

/** Endpoint ids that appeared, disappeared or changed (by content hash) between two models. */
export interface ModelDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

/** Compare two models by endpoint hash; `previous` undefined means everything is added. */
export function diffModels(previous: MeshModel | undefined, next: MeshModel): ModelDiff {
  const before = previous?.endpoints ?? {};
  const added: string[] = [];
  const changed: string[] = [];
  for (const [id, endpoint] of Object.entries(next.endpoints)) {
    const old = before[id];
    if (!old) added.push(id);
    else if (old.hash !== endpoint.hash) changed.push(id);
  }
  const removed = Object.keys(before).filter((id) => !(id in next.endpoints));
  return { added: added.sort(), removed: removed.sort(), changed: changed.sort() };
}
