// Captured Envoy admin output used by the verify tests (test/fixtures/envoy-admin/).
import * as fs from 'node:fs';
import * as path from 'node:path';

// Compiled tests run from dist/test/verify; the fixtures stay in the source tree.
export const ENVOY_ADMIN_FIXTURES = path.resolve(__dirname, '../../../test/fixtures/envoy-admin');

/** The text of one fixture file. */
export function fixture(name: string): string {
  return fs.readFileSync(path.join(ENVOY_ADMIN_FIXTURES, name), 'utf8');
}

/** The moment the fixtures were captured: their days_until_expiration agree with it. */
export const CAPTURED_AT = new Date('2026-03-10T12:00:00Z');
