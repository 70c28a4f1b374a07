// `meshd status`: asks the admin endpoint for /status and prints one row per proxy stream and
// resource type. A row is flagged (`!`) when the proxy NACKed the version meshd sent, or has not
// ACKed it within the threshold, or has been connected that long without any configuration.
// With replicas on a shared store, it also prints the fleet: every replica, and every proxy with
// the replica serving it; a proxy another replica reports as NACKing counts as out of sync too.
// Exit codes: 0 all in sync, 1 some proxy out of sync, 2 the admin endpoint could not be read.
import type { StatusDocument } from '../admin/server';
import type { FleetStatus, ProxyStatus, TypeStatus } from '../admin/types';

export interface StatusCommandOptions {
  /** Base URL of meshd's admin endpoint, e.g. http://127.0.0.1:9902. */
  adminUrl: string;
  /** Print the /status document as JSON instead of a table. */
  json?: boolean;
  /** How long a sent version may stay un-ACKed before it counts as stale (default 30). */
  staleAfterSeconds?: number;
  /** ANSI colour for flagged rows; the CLI passes `process.stdout.isTTY`. Default off. */
  color?: boolean;
  /** Give up on the admin endpoint after this long (default 5000). */
  timeoutMs?: number;
}

export interface StatusCommandResult {
  exitCode: 0 | 1 | 2;
  output: string;
}

/** Why a proxy's type is out of sync, or undefined when it is fine. */
export function problemOf(type: TypeStatus, now: Date, staleAfterSeconds: number): string | undefined {
  if (type.state === 'nacked') return 'NACKED';
  if (type.state === 'pending' && type.sent && ageSeconds(type.sent.at, now) >= staleAfterSeconds) return 'STALE';
  return undefined;
}

function ageSeconds(iso: string, now: Date): number {
  return (now.getTime() - new Date(iso).getTime()) / 1000;
}

function duration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

const short = (version: string | undefined): string => (version ? version.slice(0, 10) : '-');

function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** Earliest not-after among the certificates this node holds. */
function certificateExpiry(doc: StatusDocument, proxy: ProxyStatus, now: Date): string {
  const held = doc.secrets.filter((s) => s.kind === 'certificate' && s.holders.some((h) => h.nodeId === proxy.nodeId));
  if (held.length === 0) return '-';
  const earliest = Math.min(...held.map((s) => new Date(s.notAfter).getTime()));
  const left = (earliest - now.getTime()) / 1000;
  return left <= 0 ? `EXPIRED ${duration(left)} ago` : `in ${duration(left)}`;
}

interface Row { flagged: boolean; cells: string[] }

function rowsFor(doc: StatusDocument, proxy: ProxyStatus, now: Date, staleAfter: number): Row[] {
  const base = [proxy.nodeId, proxy.form, `${proxy.service}/${proxy.transport}`];
  const expiry = certificateExpiry(doc, proxy, now);
  if (proxy.types.length === 0) {
    const waited = ageSeconds(proxy.connectedSince, now);
    const flagged = waited >= staleAfter;
    return [{ flagged, cells: [flagged ? '!' : '', ...base, '-', '-', '-', flagged ? 'NO CONFIG' : 'waiting', '-', expiry] }];
  }
  return proxy.types.map((type) => {
    const problem = problemOf(type, now, staleAfter);
    const state = problem ?? (type.state === 'synced' ? 'in sync' : type.state === 'pending' ? 'pending' : 'not sent');
    const nack = type.lastNack ? clip(`${short(type.lastNack.version)} ${duration(ageSeconds(type.lastNack.at, now))} ago: ${type.lastNack.message}`, 70) : '-';
    return { flagged: problem !== undefined, cells: [problem ? '!' : '', ...base, type.type, short(type.sent?.version), short(type.acked?.version), state, nack, expiry] };
  });
}

function table(header: string[], rows: Row[], color: boolean): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map((r) => (color && r.flagged ? `\x1b[31m${line(r.cells)}\x1b[0m` : line(r.cells)))].join('\n');
}

/** The readable report and whether anything is out of sync. */
/** The node credential key, the keys being retired with their deadline, and revoked endpoints. */
function credentialLines(doc: StatusDocument, now: Date): string[] {
  const credentials = doc.nodeCredentials;
  if (!credentials) return [];
  const lines = [`node credential key: ${credentials.key}`];
  for (const retiring of credentials.retiring) {
    const left = Math.max(0, Math.round((Date.parse(retiring.acceptedUntil) - now.getTime()) / 1000));
    lines.push(`  retiring key ${retiring.key}: accepted until ${retiring.acceptedUntil} (${duration(left)} left); print every node's bootstrap again before then`);
  }
  if (credentials.revoked.length > 0) {
    const named = credentials.revoked.slice(0, 5).map((r) => `${r.endpoint} (${r.revokedAt})`).join(', ');
    lines.push(`  revoked: ${named}${credentials.revoked.length > 5 ? ` (+${credentials.revoked.length - 5} more)` : ''}`);
  }
  return lines;
}

export function renderStatus(doc: StatusDocument, options: { staleAfterSeconds: number; color: boolean }): { text: string; outOfSync: string[] } {
  const now = new Date(doc.generatedAt);
  const rows: Row[] = [];
  const outOfSync = new Set<string>();
  for (const proxy of doc.proxies) {
    for (const row of rowsFor(doc, proxy, now, options.staleAfterSeconds)) {
      rows.push(row);
      if (row.flagged) outOfSync.add(proxy.nodeId);
    }
  }
  const fleetLines = doc.fleet ? renderFleet(doc.fleet, options.color, outOfSync) : [];
  const lines: string[] = [];
  lines.push(`mesh revision: ${doc.mesh?.revision ?? 'none loaded'}`);
  if (doc.mesh?.lastRefused) {
    const errors = doc.mesh.lastRefused.errors;
    lines.push(`last refused change (${doc.mesh.lastRefused.at}): ${errors[0] ?? 'no details'}${errors.length > 1 ? ` (+${errors.length - 1} more)` : ''}`);
  }
  lines.push(...credentialLines(doc, now));
  const nodes = new Set(doc.proxies.map((p) => p.nodeId)).size;
  lines.push(`${nodes} ${nodes === 1 ? 'proxy' : 'proxies'} on ${doc.proxies.length} ${doc.proxies.length === 1 ? 'stream' : 'streams'}; ${outOfSync.size} out of sync`, '');
  if (rows.length > 0) lines.push(table(['!', 'NODE', 'FORM', 'STREAM', 'TYPE', 'SENT', 'ACKED', 'STATE', 'LAST NACK', 'CERT EXPIRY'], rows, options.color));
  else lines.push('no proxies connected');
  if (fleetLines.length > 0) lines.push('', ...fleetLines);
  return { text: `${lines.join('\n')}\n`, outOfSync: [...outOfSync].sort() };
}

/** Replicas, then one row per proxy of the fleet with the replica serving it; adds NACKing proxies to `outOfSync`. */
function renderFleet(fleet: FleetStatus, color: boolean, outOfSync: Set<string>): string[] {
  const replicaRows: Row[] = fleet.replicas.map((replica) => ({
    flagged: false,
    cells: [replica.self ? '*' : '', replica.name, String(replica.proxies), replica.xds.join(','), replica.admin ?? '-', replica.startedAt],
  }));
  const proxyRows: Row[] = fleet.proxies.map((proxy) => {
    const types = Object.entries(proxy.types).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const nacked = types.filter(([, type]) => type.state === 'nacked');
    if (nacked.length > 0) outOfSync.add(proxy.nodeId);
    const states = types.map(([name, type]) => `${name}:${type.state === 'synced' ? short(type.acked) : type.state}`).join(' ') || 'waiting';
    const nack = nacked[0]?.[1].nack;
    return { flagged: nacked.length > 0, cells: [nacked.length > 0 ? '!' : '', proxy.nodeId, proxy.replica, proxy.streams.join(','), states, nack ? clip(nack, 60) : '-'] };
  });
  const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  return [
    `fleet: ${count(fleet.replicas.length, 'replica', 'replicas')}, ${count(new Set(fleet.proxies.map((p) => p.nodeId)).size, 'proxy', 'proxies')}; this is ${fleet.replica}`,
    table(['', 'REPLICA', 'PROXIES', 'XDS', 'ADMIN', 'STARTED'], replicaRows, false),
    '',
    proxyRows.length > 0 ? table(['!', 'NODE', 'REPLICA', 'STREAMS', 'ACKED', 'LAST NACK'], proxyRows, color) : 'no proxies in the fleet',
  ];
}

export async function runStatus(options: StatusCommandOptions): Promise<StatusCommandResult> {
  const url = new URL('/status', options.adminUrl).toString();
  let doc: StatusDocument;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
    if (!response.ok) {
      const body = (await response.text()).slice(0, 500);
      return { exitCode: 2, output: `meshd admin at ${url} answered ${response.status}: ${body}\n` };
    }
    doc = (await response.json()) as StatusDocument;
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    return { exitCode: 2, output: `cannot reach meshd admin at ${url}: ${cause ?? (err as Error).message}\n` };
  }
  const rendered = renderStatus(doc, { staleAfterSeconds: options.staleAfterSeconds ?? 30, color: options.color ?? false });
  const output = options.json ? `${JSON.stringify({ ...doc, outOfSync: rendered.outOfSync }, null, 2)}\n` : rendered.text;
  return { exitCode: rendered.outOfSync.length > 0 ? 1 : 0, output };
}
