// A client of meshd's /view/events (Server-Sent Events) for tests: it keeps the latest view that
// arrived and lets a test wait for the first view (already here or still to come) that satisfies
// a condition, so tests wait on the push they stand for instead of asking again and again.
import type { MeshView } from '../../src/admin/mesh-view';

export interface ViewEvents {
  /** Every view received so far, oldest first. */
  readonly views: MeshView[];
  /** Resolves with the first view (latest first, then arrivals) for which `test` holds. */
  waitFor(test: (view: MeshView) => boolean, what: string, timeoutMs?: number): Promise<MeshView>;
  close(): void;
}

export async function openViewEvents(adminUrl: string): Promise<ViewEvents> {
  const abort = new AbortController();
  const response = await fetch(new URL('/view/events', adminUrl), { signal: abort.signal, headers: { Accept: 'text/event-stream' } });
  if (!response.ok || !response.body) throw new Error(`/view/events answered ${response.status}`);
  const views: MeshView[] = [];
  const waiters = new Set<() => void>();
  let ended: Error | undefined;
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'view' && data) views.push(JSON.parse(data) as MeshView);
          for (const wake of [...waiters]) wake();
        }
      }
      ended = new Error('/view/events ended');
    } catch (err) {
      ended = err as Error;
    }
    for (const wake of [...waiters]) wake();
  })();
  return {
    views,
    waitFor: (test, what, timeoutMs = 10_000) => new Promise((resolve, reject) => {
      let seen = Math.max(0, views.length - 1);
      const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no view with ${what} within ${timeoutMs} ms; last: ${JSON.stringify(views[views.length - 1])?.slice(0, 2000)}`)); }, timeoutMs);
      function check(): void {
        for (; seen < views.length; seen += 1) {
          if (test(views[seen]!)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(views[seen]!);
            return;
          }
        }
        if (ended) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`/view/events ended before a view with ${what}: ${ended.message}`));
        }
      }
      waiters.add(check);
      check();
    }),
    close: () => abort.abort(),
  };
}
