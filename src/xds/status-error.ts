// An error that ends a gRPC call (a stream, a Fetch, a credential check) with a specific status.
// It lives with the protocol primitives so that every layer that refuses a request (auth, the
// stream server, the admin views) can raise it without importing the server.
import type * as grpc from '@grpc/grpc-js';

export class StatusError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}
