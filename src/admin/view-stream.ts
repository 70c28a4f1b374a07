// /view/events: the mesh view as Server-Sent Events. Each client gets the current view when it
// connects, then a new one after every change signal. Bursts (a push reaching a hundred proxies
// means hundreds of ACKs) are coalesced: a view is built at most every `coalesceMs` after the
// first signal of a burst, once, and the same bytes go to every client. Nothing here polls.
import type * as http from 'node:http';
import { logger } from '../log';
import { redactCredentials } from './config-dump';
import { containsPrivateKey } from './key-guard';
import type { MeshView } from './mesh-view';
import type { ViewChanges } from './view-changes';

const log = logger('admin');

export interface ViewStreamOptions {
  build: () => MeshView;
  changes: ViewChanges;
  /** Longest wait between a change and its push (default 150 ms; the page promises 2 s). */
  coalesceMs?: number;
  /** A comment line this often keeps idle connections open through proxies (default 15 s). */
  keepAliveMs?: number;
}

export class ViewStream {
  private readonly clients = new Set<http.ServerResponse>();
  private pending: NodeJS.Timeout | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private sequence = 0;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: ViewStreamOptions) {
    this.unsubscribe = options.changes.subscribe(() => this.schedule());
  }

  /** Answers a GET with the event stream, open until the client leaves or the server closes. */
  attach(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    // The browser reconnects by itself after a second if the connection drops.
    res.write('retry: 1000\n\n');
    res.write(this.event());
    this.clients.add(res);
    req.once('close', () => this.clients.delete(res));
    if (!this.keepAlive) {
      this.keepAlive = setInterval(() => { for (const client of this.clients) client.write(': keep-alive\n\n'); }, this.options.keepAliveMs ?? 15_000);
      this.keepAlive.unref();
    }
  }

  /** How many clients are listening. */
  get size(): number {
    return this.clients.size;
  }

  close(): void {
    this.unsubscribe();
    clearTimeout(this.pending);
    clearInterval(this.keepAlive);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private schedule(): void {
    if (this.pending || this.clients.size === 0) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      const event = this.event();
      for (const client of this.clients) client.write(event);
    }, this.options.coalesceMs ?? 150);
  }

  /** One `view` event; an `error` event instead when the view cannot be built or would leak a key. */
  private event(): string {
    this.sequence += 1;
    let data: string;
    try {
      data = JSON.stringify(redactCredentials(this.options.build()));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error({ error: message }, 'could not build the mesh view');
      return `event: error\nid: ${this.sequence}\ndata: ${JSON.stringify({ error: `could not build the mesh view: ${message}` })}\n\n`;
    }
    if (containsPrivateKey(data)) {
      log.error({ path: '/view/events' }, 'refused to send a mesh view containing private key material; a status source is leaking keys');
      return `event: error\nid: ${this.sequence}\ndata: ${JSON.stringify({ error: 'the mesh view would contain private key material; it was withheld' })}\n\n`;
    }
    return `event: view\nid: ${this.sequence}\ndata: ${data}\n\n`;
  }
}
