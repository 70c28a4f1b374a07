// An identifier that believes whatever node id a proxy claims: for protocol tests and benchmarks
// that exercise the servers without credentials. `meshd serve` never uses it; it checks the
// node credential (node-credential.ts).
import * as grpc from '@grpc/grpc-js';
import { NodeIdError, parseNodeId } from '../identity/endpoint-id';
import type { NodeIdentifier } from '../server/xds-stream';
import { StatusError } from '../xds/status-error';

export const trustNodeIdClaims: NodeIdentifier = (node) => {
  try {
    return parseNodeId(node.id);
  } catch (err) {
    if (err instanceof NodeIdError) throw new StatusError(grpc.status.INVALID_ARGUMENT, err.message);
    throw err;
  }
};
