// The demo mesh's applications: tiny HTTP servers that answer with their own name and echo the
// path. An application with an upstream (front calls the color service) forwards each request
// through its own Envoy's egress listener, with the virtual service's name as Host so the egress
// route picks the service, and nests the answer, so one response shows the whole path:
//   {"app":"front","path":"/x","upstream":{"app":"color-blue","path":"/x"}}
// Run as a program (compose, or by hand): node dist/test/envoy-e2e/apps.js --name front --port 8080
//   [--upstream http://127.0.0.1:15101 --upstream-host color.colorapp.local:8080]
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AppOptions {
  /** Name it answers with (the virtual node's name). */
  name: string;
  port: number;
  /** Bind address; 127.0.0.1 by default, 0.0.0.0 in containers. */
  host?: string;
  /** Base URL of the Envoy egress listener to call through, e.g. `http://127.0.0.1:15101`. */
  upstream?: string;
  /** Host header for the upstream call: the virtual service and its port. */
  upstreamHost?: string;
}

/** What every application answers. */
export interface AppAnswer {
  app: string;
  path: string;
  upstream?: AppAnswer;
}

export interface RunningApp {
  name: string;
  port: number;
  close(): Promise<void>;
}

function forward(options: AppOptions, agent: http.Agent, path: string): Promise<{ status: number; body: string }> {
  const url = new URL(path, options.upstream);
  return new Promise((resolve, reject) => {
    const request = http.request(url, { agent, headers: options.upstreamHost ? { host: options.upstreamHost } : {}, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${url.href}: no answer within 10 s`)));
    request.on('error', reject);
    request.end();
  });
}

/** Starts one application; resolves once it listens. */
export function startApp(options: AppOptions): Promise<RunningApp> {
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const reply = (status: number, answer: object): void => {
      const body = JSON.stringify(answer);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (!options.upstream) {
      reply(200, { app: options.name, path } satisfies AppAnswer);
      return;
    }
    forward(options, agent, path).then(({ status, body }) => {
      if (status !== 200) {
        reply(502, { app: options.name, path, error: `upstream ${options.upstreamHost ?? options.upstream} answered ${status}: ${body.slice(0, 200)}` });
        return;
      }
      let upstream: AppAnswer;
      try {
        upstream = JSON.parse(body) as AppAnswer;
      } catch {
        reply(502, { app: options.name, path, error: `upstream answered non-JSON: ${body.slice(0, 200)}` });
        return;
      }
      reply(200, { app: options.name, path, upstream } satisfies AppAnswer);
    }, (err: Error) => reply(502, { app: options.name, path, error: `upstream ${options.upstream}: ${err.message}` }));
  });
  // Envoy keeps upstream connections open; a short server keep-alive would race its reuse.
  server.keepAliveTimeout = 120_000;
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`app ${options.name}: cannot listen on ${options.host ?? '127.0.0.1'}:${options.port}: ${err.message}`)));
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      resolve({
        name: options.name,
        port: (server.address() as AddressInfo).port,
        close: () => new Promise((done) => {
          agent.destroy();
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

function argValue(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Command-line entry: one application per process, until SIGTERM/SIGINT. */
export async function appMain(argv: readonly string[]): Promise<void> {
  const name = argValue(argv, '--name');
  const port = Number(argValue(argv, '--port'));
  if (!name || !Number.isInteger(port)) throw new Error('usage: apps.js --name NAME --port N [--host ADDR] [--upstream URL --upstream-host HOST:PORT]');
  const upstream = argValue(argv, '--upstream');
  const upstreamHost = argValue(argv, '--upstream-host');
  const app = await startApp({ name, port, host: argValue(argv, '--host') ?? '127.0.0.1', ...(upstream ? { upstream } : {}), ...(upstreamHost ? { upstreamHost } : {}) });
  process.stdout.write(`app ${name} listening on ${port}${upstream ? `, calling ${upstreamHost ?? ''} through ${upstream}` : ''}\n`);
  const stop = (): void => { void app.close().then(() => process.exit(0)); };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  appMain(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
