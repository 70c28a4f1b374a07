// Short content versions: the first 16 hex digits of a SHA-256 digest.

/**
 * The first 16 hex digits of a digest, as a string of their own: a slice would be a view that
 * keeps the whole 64-digit digest alive (80 bytes more for each of the ~50,000 versions 10,000
 * SDS streams hold). JSON.parse of a quoted literal is the cheapest copy V8 offers (~0.1 µs).
 */
export function shortHex(digest: string): string {
  return JSON.parse(`"${digest.slice(0, 16)}"`) as string;
}
