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

/** One page of `entries` (sorted by key) after the request's `nextToken`, at most `limit` long. */
export function paginate<T>(entries: readonly { key: string; item: T }[], input: { readonly limit?: unknown; readonly nextToken?: unknown }, maxLimit: number): { items: { key: string; item: T }[]; nextToken?: string } {
  const limit = input.limit === undefined ? maxLimit : Number(input.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) throw badRequest(`limit: must be a whole number from 1 to ${maxLimit}`);
  const after = input.nextToken === undefined ? undefined : decodePageToken(String(input.nextToken));
  const start = after === undefined ? 0 : entries.findIndex((entry) => entry.key > after);
  const rest = start < 0 ? [] : entries.slice(start);
  const items = rest.slice(0, limit);
  return rest.length > limit ? { items, nextToken: encodePageToken(items[items.length - 1]!.key) } : { items };
}
