// grpc-js prints its own errors to stderr as raw text (`E No address added out of total 1
// resolved`), which breaks meshd's one-JSON-event-per-line logs and precedes meshd's own, clearer
// message. The command line routes them into meshd's log instead, as component `grpc-js`.
import * as grpc from '@grpc/grpc-js';
import { format } from 'node:util';
import { logger } from '../log';

const log = logger('grpc-js');

/** Sends grpc-js's log lines to meshd's JSON log: its errors as warnings, the rest at their level. */
export function routeGrpcLogs(): void {
  grpc.setLogger({
    error: (message?: unknown, ...rest: unknown[]) => log.warn(format(message, ...rest)),
    info: (message?: unknown, ...rest: unknown[]) => log.info(format(message, ...rest)),
    debug: (message?: unknown, ...rest: unknown[]) => log.debug(format(message, ...rest)),
  });
}
