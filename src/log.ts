// One logger for the process; each module takes a child named after itself so a line says
// where it came from. Level from MESHD_LOG_LEVEL (default info; tests run with "silent" unless
// asked otherwise). Lines go to stderr as JSON, one event per line.
import pino from 'pino';

export type Logger = pino.Logger;

const level = process.env.MESHD_LOG_LEVEL ?? (process.env.MESHD_TEST === '1' ? 'silent' : 'info');

const rootLogger: Logger = pino(
  {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    // Defence in depth: any field with one of these names is replaced before it is written.
    redact: { paths: ['privateKey', 'privateKeyPem', 'key', 'keyPem', '*.privateKey', '*.privateKeyPem', 'token', 'credential'], censor: '[redacted]' },
  },
  pino.destination({ fd: 2, sync: true }),
);

/** A logger for one module, e.g. `logger('xds-server')`. */
export function logger(component: string): Logger {
  return rootLogger.child({ component });
}
