// `meshd certs rotate`, `meshd ca rollover` and `meshd credentials rotate|revoke`: ask a running
// meshd, through its admin server (the state they change is the running meshd's, never edited
// behind its back).

export interface AdminActionOptions {
  adminUrl: string;
  path: '/rotate' | '/ca/rollover' | '/credentials/rotate' | '/credentials/revoke';
  node?: string;
  /** Further query parameters (e.g. overlap). */
  params?: Record<string, string>;
  /** Bearer token (MESHD_ADMIN_TOKEN) for a meshd that is not on this host. */
  token?: string;
  timeoutMs?: number;
}

export async function runAdminAction(options: AdminActionOptions): Promise<{ exitCode: number; output: string }> {
  const url = new URL(options.path, options.adminUrl);
  if (options.node) url.searchParams.set('node', options.node);
  for (const [name, value] of Object.entries(options.params ?? {})) url.searchParams.set(name, value);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const body = (await response.json().catch(() => ({}))) as { message?: string; error?: string };
    if (!response.ok) return { exitCode: 1, output: `meshd refused ${options.path} (${response.status}): ${body.error ?? 'no reason given'}` };
    return { exitCode: 0, output: body.message ?? 'done' };
  } catch (err) {
    return { exitCode: 2, output: `could not reach meshd's admin at ${options.adminUrl}: ${(err as Error).message}` };
  }
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `90s`, `30m`, `24h`, `7d` or plain seconds, in whole seconds; throws naming the flag. */
export function parseDurationSeconds(value: string, flag: string): number {
  const match = /^(\d{1,7})([smhd]?)$/.exec(value.trim());
  if (!match) throw new Error(`${flag} ${value}: expected a duration such as 90s, 30m, 24h or 7d`);
  return Number(match[1]) * DURATION_UNITS[match[2] || 's']!;
}
