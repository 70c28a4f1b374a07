// Bounds on what one spec file may hold. They exist so that no input (a YAML alias bomb, a huge
// file, a file of countless tiny documents) can exhaust meshd's memory, stack or event loop: an
// input over a limit is refused like any invalid change, with the file and the limit named.

/** Limits applied to every spec file meshd reads. */
export interface SpecLimits {
  /** Largest spec file read, in bytes (checked on disk before reading). */
  readonly maxFileBytes: number;
  /** Most YAML documents (or items of a top-level list) in one file. */
  readonly maxDocuments: number;
  /** Most YAML alias expansions in one document (the yaml library's `maxAliasCount`). */
  readonly maxAliases: number;
}

/**
 * Defaults, chosen against real specs:
 * - 1 MiB per file is Kubernetes' own ConfigMap limit, so every spec that can arrive in a ConfigMap
 *   fits; it holds about 2,500 typical virtual nodes, which the YAML parser reads in about a second.
 * - 10,000 documents per file is four times what 1 MiB of typical resources holds.
 * - 1,000 alias expansions per document: real specs share anchors (one TLS block reused by every
 *   listener or backend, ~100 times in a large one); 1,000 leaves room for that while an alias bomb,
 *   whose expansions multiply, is stopped before it costs anything.
 */
export const DEFAULT_SPEC_LIMITS: SpecLimits = {
  maxFileBytes: 1024 * 1024,
  maxDocuments: 10_000,
  maxAliases: 1_000,
};

/** The command-line flag that sets each limit, for messages that tell the operator what to change. */
export const SPEC_LIMIT_FLAGS: Readonly<Record<keyof SpecLimits, string>> = {
  maxFileBytes: '--spec-max-file-size',
  maxDocuments: '--spec-max-documents',
  maxAliases: '--spec-max-aliases',
};
