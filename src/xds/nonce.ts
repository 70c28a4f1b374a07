// Nonces are unique across the whole process, not just per stream. That lets one fully encoded
// response (nonce included) be shared by every stream that receives the same resources: a stream
// only ever compares a nonce with the last one it was sent, so uniqueness is all that matters.
let counter = 0;

export function nextNonce(): string {
  counter += 1;
  return counter.toString(36);
}
