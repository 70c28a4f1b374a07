// List pages: `nextToken` is opaque to clients; it carries the last key of the page it follows, so
// a page stays correct when resources are added or removed between calls.
import { badRequest } from './errors';

export function encodePageToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey })).toString('base64url');
}

/** The key a token continues after; a token meshd did not issue is a BadRequestException. */
export function decodePageToken(token: string): string {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && typeof (value as { after?: unknown }).after === 'string') return (value as { after: string }).after;
  } catch {
    // fall through to the refusal below
  }
  throw badRequest('nextToken: is not a token from a previous page of this list');
}
