// A real App Mesh API server over a temporary spec directory, with a read-write and a read-only
// key, and SDK clients signed with them (the real @aws-sdk/client-app-mesh over HTTP).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppMeshClient } from '@aws-sdk/client-app-mesh';
import { createKey, startAppMeshApi, type ApiKey, type ApiServer } from '../../src/api';
import { DirectoryStore } from '../../src/store';

// The pinned SDK works on Node 20; its notice that later versions will need Node 22 is not a test result.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const REGION = 'eu-west-1';
export const ACCOUNT = '111122223333';

export interface ApiHarness {
  readonly dir: string;
  readonly specDir: string;
  readonly keysFile: string;
  readonly server: ApiServer;
  readonly readWrite: ApiKey;
  readonly readOnly: ApiKey;
  client(key?: ApiKey, extra?: { maxAttempts?: number; region?: string }): AppMeshClient;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly ratePerSecond?: number;
  readonly rateBurst?: number;
  readonly maxBodyBytes?: number;
}

export async function startApiHarness(options: HarnessOptions = {}): Promise<ApiHarness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-api-'));
  const specDir = path.join(dir, 'mesh');
  fs.mkdirSync(specDir);
  const keysFile = path.join(dir, 'state', 'api-keys.json');
  const readWrite = createKey(keysFile, 'read-write');
  const readOnly = createKey(keysFile, 'read-only');
  const server = await startAppMeshApi({
    host: '127.0.0.1', port: 0, store: new DirectoryStore(specDir), keysFile, region: REGION, account: ACCOUNT,
    ratePerSecond: options.ratePerSecond ?? 1000, rateBurst: options.rateBurst ?? 1000,
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
  const clients: AppMeshClient[] = [];
  return {
    dir, specDir, keysFile, server, readWrite, readOnly,
    client(key = readWrite, extra = {}) {
      const client = new AppMeshClient({
        endpoint: server.url,
        region: extra.region ?? REGION,
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
        maxAttempts: extra.maxAttempts ?? 1,
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.destroy();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A listener-less virtual node spec with DNS service discovery. */
export function nodeSpec(hostname: string, port = 8080): Record<string, unknown> {
  return { listeners: [{ portMapping: { port, protocol: 'http' } }], serviceDiscovery: { dns: { hostname } } };
}
