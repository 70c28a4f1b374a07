// Public surface of the App Mesh API: one call starts it over a store.
import { logger } from '../log';
import type { ResourceStore } from '../store/types';
import { ApiHandlers } from './handlers';
import { KeyRing } from './keys';
import { ApiServer } from './server';
import { appMeshModel } from './service-model';

export { ApiServer, isLoopbackHost } from './server';
export { ApiHandlers } from './handlers';
export { KeyRing, createKey, readKeys, revokeKey, defaultKeysFile, type ApiKey, type KeyAccess } from './keys';
export { appMeshModel } from './service-model';
export { errorStatus, ApiError } from './errors';

const log = logger('api');

/** How `meshd serve --api` is asked to run the API (the store is the spec directory). */
export interface ApiSettings {
  /** `HOST:PORT` to listen on. */
  readonly address: string;
  readonly allowPublic?: boolean;
  readonly keysFile: string;
  readonly region: string;
  readonly account: string;
  readonly ratePerSecond?: number;
  readonly rateBurst?: number;
  readonly maxBodyBytes?: number;
}

export interface AppMeshApiOptions {
  readonly host: string;
  readonly port: number;
  readonly allowPublic?: boolean;
  readonly store: ResourceStore;
  readonly keysFile: string;
  /** Region of ARNs and of request signatures (default us-east-1). */
  readonly region: string;
  /** Account id of ARNs, meshOwner and resourceOwner. */
  readonly account: string;
  readonly trustDomain?: string;
  /** Requests per second per key, and the burst (defaults 20 and 40). */
  readonly ratePerSecond?: number;
  readonly rateBurst?: number;
  /** Largest request body accepted (default 1 MiB). */
  readonly maxBodyBytes?: number;
}

/** Starts the API; the store is where accepted writes go (the spec directory by default). */
export async function startAppMeshApi(options: AppMeshApiOptions): Promise<ApiServer> {
  const handlers = new ApiHandlers({
    store: options.store,
    arn: { region: options.region, account: options.account },
    startedAt: new Date(),
    ...(options.trustDomain ? { trustDomain: options.trustDomain } : {}),
  });
  const server = new ApiServer({
    host: options.host,
    port: options.port,
    ...(options.allowPublic ? { allowPublic: true } : {}),
    model: appMeshModel(),
    handlers,
    keys: new KeyRing(options.keysFile, (message) => log.error({ file: options.keysFile }, message)),
    region: options.region,
    rateLimit: { perSecond: options.ratePerSecond ?? 20, burst: options.rateBurst ?? 40 },
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
  await server.start();
  return server;
}
