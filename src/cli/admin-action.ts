// `meshd certs rotate` and `meshd ca rollover`: ask a running meshd, through its admin server.

export interface AdminActionOptions {
  adminUrl: string;
  path: '/rotate' | '/ca/rollover';
  node?: string;
  /** Bearer token (MESHD_ADMIN_TOKEN) for a meshd that is not on this host. */
  token?: string;
  timeoutMs?: number;
}

export async function runAdminAction(options: AdminActionOptions): Promise<{ exitCode: number; output: string }> {
  const url = new URL(options.path, options.adminUrl);
  if (options.node) url.searchParams.set('node', options.node);
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
