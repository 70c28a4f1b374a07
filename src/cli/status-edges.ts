// `meshd status --edges`: every caller -> service -> provider path of the served mesh with its
// effective TLS posture and whether the proxies at both ends run what meshd serves, read from the
// admin endpoint's /view (the same document the /ui page shows). A table for terminals, `--json`
// for scripts. Exit codes: 0 no path is broken, 1 some path's handshakes fail (posture `broken`),
// 2 the admin endpoint could not be read.
import type { EdgeView, EndpointSync, MeshView } from '../admin/mesh-view';
import { POSTURE_LABELS } from '../posture';

export interface EdgesCommandOptions {
  /** Base URL of meshd's admin endpoint. */
  adminUrl: string;
  json?: boolean;
  /** Give up on the admin endpoint after this long (default 5000). */
  timeoutMs?: number;
}

export interface EdgesCommandResult {
  exitCode: 0 | 1 | 2;
  output: string;
}

/** `mesh/<mesh>/virtualNode/front` -> `virtualNode/front` (the mesh heads its table). */
function shortEndpoint(endpointId: string): string {
  return endpointId.split('/').slice(2).join('/');
}

function sync(value: EndpointSync): string {
  return `${value.inSync}/${value.proxies}`;
}

function table(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** One JSON row per path, self-contained for scripts. */
function jsonRow(mesh: string, edge: EdgeView): Record<string, unknown> {
  return {
    mesh, caller: edge.caller, service: edge.service, ...(edge.router ? { router: edge.router } : {}), provider: edge.provider,
    port: edge.port, protocol: edge.protocol, posture: edge.posture, label: POSTURE_LABELS[edge.posture], reason: edge.reason,
    facts: edge.facts, callerSync: edge.callerSync, providerSync: edge.providerSync,
  };
}

/** The readable report, and the ids of paths whose handshakes fail. */
export function renderEdges(view: MeshView): { text: string; broken: string[] } {
  const lines = [`mesh revision: ${view.revision ?? 'none loaded'}`];
  if (view.refused) lines.push(`last refused change (${view.refused.at}), still serving revision ${view.revision ?? 'none'}:`, ...view.refused.errors.map((error) => `  ${error}`));
  const broken: string[] = [];
  for (const graph of view.meshes) {
    lines.push('', `mesh ${graph.mesh}: ${graph.edges.length} ${graph.edges.length === 1 ? 'path' : 'paths'}`);
    if (graph.edges.length === 0) continue;
    const rows = graph.edges.map((edge) => {
      if (edge.posture === 'broken') broken.push(edge.id);
      return [shortEndpoint(edge.caller), edge.service + (edge.router ? ` (${edge.router})` : ''), shortEndpoint(edge.provider), `${edge.port}/${edge.protocol}`,
        POSTURE_LABELS[edge.posture], `${sync(edge.callerSync)} -> ${sync(edge.providerSync)}`];
    });
    lines.push(table(['CALLER', 'SERVICE', 'PROVIDER', 'PORT', 'POSTURE', 'PROXIES IN SYNC'], rows));
    for (const edge of graph.edges.filter((e) => e.posture === 'broken')) lines.push(`  broken: ${shortEndpoint(edge.caller)} -> ${edge.service} -> ${shortEndpoint(edge.provider)}: ${edge.reason}`);
  }
  if (view.meshes.length === 0) lines.push('', 'no mesh loaded');
  lines.push('', 'PROXIES IN SYNC: caller -> provider, proxies running the configuration meshd serves / proxies connected');
  return { text: `${lines.join('\n')}\n`, broken };
}

export async function runStatusEdges(options: EdgesCommandOptions): Promise<EdgesCommandResult> {
  const url = new URL('/view', options.adminUrl).toString();
  let view: MeshView;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
    if (!response.ok) return { exitCode: 2, output: `meshd admin at ${url} answered ${response.status}: ${(await response.text()).slice(0, 500)}\n` };
    view = (await response.json()) as MeshView;
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    return { exitCode: 2, output: `cannot reach meshd admin at ${url}: ${cause ?? (err as Error).message}\n` };
  }
  const rendered = renderEdges(view);
  const output = options.json
    ? `${JSON.stringify({
      revision: view.revision, ...(view.refused ? { refused: view.refused } : {}),
      edges: view.meshes.flatMap((graph) => graph.edges.map((edge) => jsonRow(graph.mesh, edge))),
    }, null, 2)}\n`
    : rendered.text;
  return { exitCode: rendered.broken.length > 0 ? 1 : 0, output };
}
