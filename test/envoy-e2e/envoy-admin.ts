// Reading a live Envoy's admin endpoint: /ready, /stats, /certs and /config_dump, with the
// parsers `meshd verify` uses, so the scenarios read Envoy exactly as operators' tooling does.
import * as http from 'node:http';
import { parseStatsText } from '../../src/verify/stats';
import { parseCertsJson, type CertificateInfo } from '../../src/verify/certs';

/** GET a URL; resolves with status and body, rejects on connection errors and after `timeoutMs`. */
export function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { timeout: timeoutMs, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/** POST with an empty body (admin actions). */
export function httpPost(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', timeout: timeoutMs, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end();
  });
}

/** One Envoy's admin endpoint. */
export class EnvoyAdmin {
  /** @param baseUrl e.g. `http://127.0.0.1:9901` */
  constructor(readonly name: string, readonly baseUrl: string) {}

  private async get(path: string): Promise<string> {
    const { status, body } = await httpGet(`${this.baseUrl}${path}`);
    if (status !== 200) throw new Error(`envoy ${this.name}: GET ${this.baseUrl}${path} answered ${status}: ${body.slice(0, 200)}`);
    return body;
  }

  /** Whether /ready answers 200 (Envoy is LIVE: initial config applied). */
  async ready(): Promise<boolean> {
    try {
      return (await httpGet(`${this.baseUrl}/ready`, 2000)).status === 200;
    } catch {
      return false;
    }
  }

  /** Every counter and gauge, by full name. */
  async stats(): Promise<Map<string, number>> {
    return parseStatsText(await this.get('/stats'));
  }

  /** One statistic, 0 when Envoy does not have it (yet). */
  async stat(name: string): Promise<number> {
    return (await this.stats()).get(name) ?? 0;
  }

  /** Certificates Envoy holds, as `meshd verify` reads them. */
  async certs(): Promise<CertificateInfo[]> {
    return parseCertsJson(await this.get('/certs'), new Date());
  }

  /** Serials of the proxy's own certificate(s) and of its trust bundle. */
  async serials(): Promise<{ chain: string[]; ca: string[] }> {
    const certs = await this.certs();
    const pick = (role: 'ca' | 'chain'): string[] => [...new Set(certs.filter((c) => c.role === role).map((c) => c.serial))].sort();
    return { chain: pick('chain'), ca: pick('ca') };
  }

  /** /config_dump, parsed. */
  async configDump(): Promise<ConfigDump> {
    return JSON.parse(await this.get('/config_dump')) as ConfigDump;
  }
}

/** The parts of Envoy's /config_dump the scenarios read. */
export interface ConfigDump {
  configs: Array<{
    '@type': string;
    dynamic_listeners?: Array<{ name: string; active_state?: { version_info?: string; listener?: Record<string, unknown> }; error_state?: unknown }>;
    dynamic_active_clusters?: Array<{ version_info?: string; cluster?: { name?: string } & Record<string, unknown> }>;
    dynamic_warming_clusters?: Array<{ cluster?: { name?: string } }>;
    dynamic_route_configs?: Array<{ version_info?: string; route_config?: { name?: string } & Record<string, unknown> }>;
    dynamic_active_secrets?: Array<{ name: string; version_info?: string }>;
  }>;
}

function section(dump: ConfigDump, type: string): ConfigDump['configs'][number] | undefined {
  return dump.configs.find((c) => c['@type'].endsWith(type));
}

/** Names of the listeners Envoy has active (warmed, serving). */
export function activeListeners(dump: ConfigDump): string[] {
  return (section(dump, 'ListenersConfigDump')?.dynamic_listeners ?? []).filter((l) => l.active_state).map((l) => l.name).sort();
}

/** An active listener's config as Envoy holds it, or undefined. */
export function activeListener(dump: ConfigDump, name: string): { version: string; listener: Record<string, unknown> } | undefined {
  const found = (section(dump, 'ListenersConfigDump')?.dynamic_listeners ?? []).find((l) => l.name === name && l.active_state?.listener);
  return found ? { version: found.active_state!.version_info ?? '', listener: found.active_state!.listener! } : undefined;
}

/** An active cluster's config as Envoy holds it, or undefined. */
export function activeCluster(dump: ConfigDump, name: string): { version: string; cluster: Record<string, unknown> } | undefined {
  const found = (section(dump, 'ClustersConfigDump')?.dynamic_active_clusters ?? []).find((c) => c.cluster?.name === name);
  return found ? { version: found.version_info ?? '', cluster: found.cluster! } : undefined;
}

/** A route configuration as Envoy holds it, or undefined. */
export function routeConfig(dump: ConfigDump, name: string): { version: string; routeConfig: Record<string, unknown> } | undefined {
  const found = (section(dump, 'RoutesConfigDump')?.dynamic_route_configs ?? []).find((r) => r.route_config?.name === name);
  return found ? { version: found.version_info ?? '', routeConfig: found.route_config! } : undefined;
}
