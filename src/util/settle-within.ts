// Bounded waiting for clean-up that talks to a peer that may be gone (etcd during an outage):
// shutting down must not hang on it, and a clean-up that cannot finish is not an error worth
// more than the caller's own log line (leases expire, watches die with the connection).

/** Resolves once `work` settles (its outcome ignored) or `ms` have passed, whichever is first; true if it settled. */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([work.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a shutdown waits for each clean-up call to etcd. */
export const ETCD_CLEANUP_MS = 2_000;
