// The last line of defence against leaking private keys through the admin surface: every body it
// sends (JSON, text, each server-sent event) is checked for a PEM private key before it leaves.
const PRIVATE_KEY_MARKER = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** True when `text` holds a PEM private key block. */
export function containsPrivateKey(text: string): boolean {
  return PRIVATE_KEY_MARKER.test(text);
}
