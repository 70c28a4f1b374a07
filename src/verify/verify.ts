// `meshd verify --envoy-admin URL`: fetch an Envoy's /stats, /certs and /config_dump, judge them,
// and say so. Exit codes: 0 clean, 1 findings, 2 the admin could not be reached or its /stats or
// /certs not parsed. /config_dump only sharpens the judgement (each listener's TLS posture): when
// it cannot be read, listeners are judged by /stats heuristics and the output says so.
import { parseCertsJson, type CertificateInfo } from './certs';
import { parseConfigDump } from './config-dump';
import { collectTlsStats, parseStatsText, type TlsStats } from './stats';
import { buildReport, type PostureSource } from './report';
import { renderReportJson, renderReportTable } from './render';

export interface VerifyOptions {
  /** Envoy admin base URL, e.g. `http://127.0.0.1:9901` (a bare `host:port` means http). */
  envoyAdmin: string;
  /** Also fail on TLS connection errors and on plaintext evidence. */
  strict?: boolean;
  /** Certificates expiring within this many days fail; default 7. */
  expiryDays?: number;
  /** App Mesh ingress port whose listener must be TLS under --strict; default 15000. */
  ingressPort?: number;
  /** Print JSON instead of tables. */
  json?: boolean;
  /** Per-request timeout in milliseconds; default 5000. */
  timeoutMs?: number;
  /** The time certificates are judged at; default now. */
  now?: Date;
}

export interface VerifyResult {
  /** 0 clean, 1 findings, 2 admin unreachable or unparsable. */
  exitCode: 0 | 1 | 2;
  /** What to print on stdout. */
  output: string;
}

export const EXIT_CLEAN = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_UNREACHABLE = 2;

/** Normalises the admin address to a base URL without a trailing slash. */
export function adminBaseUrl(address: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  const url = new URL(withScheme);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`Envoy admin "${address}": expected an http(s) URL`);
  return url.toString().replace(/\/+$/, '');
}

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause;
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (cause?.message ?? (err as Error).message);
    throw new Error(`GET ${url}: ${reason}`);
  }
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  return body;
}

/** The value, or the error it was rejected with. */
async function settle<T>(promise: Promise<T>): Promise<T | Error> {
  try {
    return await promise;
  } catch (err) {
    return err as Error;
  }
}

/**
 * Listeners and active clusters only: the whole dump would also carry secrets (redacted by
 * Envoy, but still not ours to fetch). An Envoy that ignores `resource` sends the whole dump,
 * which parseConfigDump reads as well.
 */
const CONFIG_DUMP_PATHS = ['/config_dump?resource=dynamic_listeners', '/config_dump?resource=dynamic_active_clusters'];

async function readPostures(base: string, timeoutMs: number): Promise<PostureSource> {
  let texts: string[];
  try {
    texts = await Promise.all(CONFIG_DUMP_PATHS.map((p) => fetchText(`${base}${p}`, timeoutMs)));
  } catch (err) {
    return { unavailable: (err as Error).message };
  }
  try {
    return { config: parseConfigDump(...texts) };
  } catch (err) {
    return { unavailable: `${base}/config_dump: ${(err as Error).message}` };
  }
}

function failure(message: string, json: boolean): VerifyResult {
  return { exitCode: EXIT_UNREACHABLE, output: json ? `${JSON.stringify({ error: message }, null, 2)}\n` : `meshd verify: ${message}\n` };
}

/** Runs the whole check; never throws for a bad or unreachable admin, it returns exit code 2. */
export async function runVerify(opts: VerifyOptions): Promise<VerifyResult> {
  const json = opts.json ?? false;
  const expiryDays = opts.expiryDays ?? 7;
  if (!(expiryDays >= 0)) return failure(`--expiry-days ${expiryDays}: must be zero or more`, json);
  let base: string;
  try {
    base = adminBaseUrl(opts.envoyAdmin);
  } catch (err) {
    return failure((err as Error).message, json);
  }
  const timeoutMs = opts.timeoutMs ?? 5000;
  // All requests run together and all are settled before returning, so none is left in flight.
  const [statsText, certsText, posture] = await Promise.all([
    settle(fetchText(`${base}/stats`, timeoutMs)),
    settle(fetchText(`${base}/certs`, timeoutMs)),
    readPostures(base, timeoutMs),
  ]);
  if (statsText instanceof Error) return failure(statsText.message, json);
  if (certsText instanceof Error) return failure(certsText.message, json);
  const now = opts.now ?? new Date();
  let stats: TlsStats;
  let certificates: CertificateInfo[];
  try {
    stats = collectTlsStats(parseStatsText(statsText));
  } catch (err) {
    return failure(`${base}/stats: ${(err as Error).message}`, json);
  }
  try {
    certificates = parseCertsJson(certsText, now);
  } catch (err) {
    return failure(`${base}/certs: ${(err as Error).message}`, json);
  }
  const policy = { strict: opts.strict ?? false, expiryDays, ingressPort: opts.ingressPort ?? 15000 };
  const report = buildReport(base, stats, certificates, policy, posture);
  return {
    exitCode: report.ok ? EXIT_CLEAN : EXIT_FINDINGS,
    output: json ? renderReportJson(report) : renderReportTable(report),
  };
}
