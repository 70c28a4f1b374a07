// `clientToken` makes a create or update idempotent, as App Mesh does: the same token with the same
// request gets the first answer again (nothing changes twice); the same token with a different
// request is a ConflictException. Tokens are remembered in memory for a while, up to a bound.
import { ApiError } from './errors';

interface Remembered {
  readonly fingerprint: string;
  readonly response: Record<string, unknown>;
  readonly at: number;
}

export interface ClientTokenOptions {
  /** How long a token is remembered (default 1 h). */
  readonly ttlMs?: number;
  /** Most tokens remembered; the oldest go first (default 10,000). */
  readonly maxTokens?: number;
}

export class ClientTokens {
  private readonly tokens = new Map<string, Remembered>();
  private readonly pending = new Map<string, { fingerprint: string; run: Promise<Record<string, unknown>> }>();

  constructor(private readonly options: ClientTokenOptions = {}) {}

  /**
   * Runs `work` once per (key, token): a repeat with the same fingerprint gets the first response,
   * a repeat with another fingerprint is refused. Without a token, `work` just runs.
   */
  async once(scope: string, token: string | undefined, fingerprint: string, work: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
    if (token === undefined || token === '') return work();
    const id = `${scope}\0${token}`;
    this.expire();
    const known = this.tokens.get(id);
    if (known) {
      if (known.fingerprint !== fingerprint) throw new ApiError('ConflictException', `clientToken ${token} was already used for a different request`);
      return known.response;
    }
    const running = this.pending.get(id);
    if (running) {
      if (running.fingerprint !== fingerprint) throw new ApiError('ConflictException', `clientToken ${token} is in use by a different request`);
      return running.run;
    }
    const run = work().then((response) => {
      this.tokens.set(id, { fingerprint, response, at: Date.now() });
      return response;
    }).finally(() => this.pending.delete(id));
    this.pending.set(id, { fingerprint, run });
    return run;
  }

  private expire(): void {
    const oldest = Date.now() - (this.options.ttlMs ?? 3_600_000);
    const max = this.options.maxTokens ?? 10_000;
    for (const [id, remembered] of this.tokens) {
      if (remembered.at >= oldest && this.tokens.size <= max) break;
      this.tokens.delete(id);
    }
  }
}
