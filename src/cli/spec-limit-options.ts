// The spec-limit flags, shared by `serve` and `validate` so that validate refuses exactly what a
// running meshd would refuse.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_SPEC_LIMITS, SPEC_LIMIT_FLAGS, type SpecLimits } from '../spec/limits';

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };

/** `1048576`, `512KiB`, `4MiB` (K, M and G are binary too) to a byte count of at least 1. */
export function parseByteSize(value: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined || Number(match[1]) < 1) throw new InvalidArgumentError('must be a size such as 1048576, 512KiB or 4MiB');
  return Number(match[1]) * unit;
}

function count(minimum: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < minimum) throw new InvalidArgumentError(`must be a whole number of at least ${minimum}`);
    return n;
  };
}

/** Adds --spec-max-file-size, --spec-max-documents and --spec-max-aliases to a command. */
export function addSpecLimitOptions(command: Command): Command {
  return command
    .addOption(new Option(`${SPEC_LIMIT_FLAGS.maxFileBytes} <size>`, 'largest spec file read (checked before reading); larger files are refused')
      .argParser(parseByteSize).default(DEFAULT_SPEC_LIMITS.maxFileBytes, '1MiB'))
    .addOption(new Option(`${SPEC_LIMIT_FLAGS.maxDocuments} <n>`, 'most YAML documents (or top-level list items) in one spec file')
      .argParser(count(1)).default(DEFAULT_SPEC_LIMITS.maxDocuments))
    .addOption(new Option(`${SPEC_LIMIT_FLAGS.maxAliases} <n>`, 'most YAML alias expansions in one document (stops alias bombs)')
      .argParser(count(0)).default(DEFAULT_SPEC_LIMITS.maxAliases));
}

/** What commander parsed for the spec-limit flags. */
export interface SpecLimitFlags {
  specMaxFileSize: number;
  specMaxDocuments: number;
  specMaxAliases: number;
}

export function specLimitsOf(flags: SpecLimitFlags): SpecLimits {
  return { maxFileBytes: flags.specMaxFileSize, maxDocuments: flags.specMaxDocuments, maxAliases: flags.specMaxAliases };
}
