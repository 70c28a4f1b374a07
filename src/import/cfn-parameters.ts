// `--parameter KEY=VALUE` values: template parameters, pseudo parameters (`AWS::Region`), values of
// resources meshd does not import (`Logical.Attribute` for `Fn::GetAtt`, `Logical` for `Ref`) and
// exports no given template declares. `TEMPLATE:KEY=VALUE` gives a value to one template only (e.g.
// each stack's `AWS::StackName`).

/** A parsed `--parameter` value, or why it could not be parsed. */
export type ParsedParameter = { readonly scope?: string; readonly key: string; readonly value: string } | { readonly problem: string };

const templateExtension = /\.(ya?ml|json|template)$/i;

/** `KEY=VALUE` or `TEMPLATE:KEY=VALUE` (TEMPLATE being a file name ending .yaml, .yml, .json or .template). */
export function parseParameter(text: string): ParsedParameter {
  const equals = text.indexOf('=');
  if (equals <= 0) return { problem: `--parameter ${text}: must be KEY=VALUE (or TEMPLATE:KEY=VALUE)` };
  const left = text.slice(0, equals);
  const value = text.slice(equals + 1);
  const colon = left.indexOf(':');
  if (colon > 0 && templateExtension.test(left.slice(0, colon))) return { scope: left.slice(0, colon), key: left.slice(colon + 1), value };
  return { key: left, value };
}

/** The `--parameter` values, looked up per template; remembers which were used. */
export class ParameterOverrides {
  private readonly used = new Set<string>();

  constructor(private readonly entries: ReadonlyArray<{ readonly scope?: string; readonly key: string; readonly value: string }>) {}

  /** The value for `key` in `file`: a value scoped to the template wins over a global one. */
  lookup(file: string, key: string): string | undefined {
    const base = file.split(/[\\/]/).pop() ?? file;
    const index = this.entries.findIndex((entry) => entry.key === key && (entry.scope === file || entry.scope === base));
    const chosen = index >= 0 ? index : this.entries.findIndex((entry) => entry.key === key && entry.scope === undefined);
    if (chosen < 0) return undefined;
    this.used.add(String(chosen));
    return this.entries[chosen]!.value;
  }

  /** `--parameter` values no template asked for (probably misspelt). */
  unused(): string[] {
    return this.entries.flatMap((entry, index) => (this.used.has(String(index)) ? [] : [entry.scope ? `${entry.scope}:${entry.key}` : entry.key]));
  }
}
