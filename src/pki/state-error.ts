// A state directory meshd will not use as it is: missing, partial or inconsistent material that
// would lose the trust running proxies hold if meshd quietly replaced it. The message names the
// file and says how to recover; `file` lets callers and tests point at it without parsing text.
export class StateDirectoryError extends Error {
  constructor(readonly file: string, message: string) {
    super(message);
    this.name = 'StateDirectoryError';
  }
}
