// What the protocol servers report about their streams, for status, metrics and CSDS. The
// servers call these hooks; they do not know who listens.
import type { NodeInfo } from '../xds/wire';

export type StreamFlavor = 'sotw' | 'delta';

export interface StreamInfo {
  /** Unique per process. */
  id: number;
  service: string;
  flavor: StreamFlavor;
  /** The peer as grpc-js reports it (`ipv4:127.0.0.1:5555`, `unix:/path`). */
  peer: string;
  node: NodeInfo;
  /** The key of the snapshot the node is served (from the injected NodeIdentifier). */
  nodeKey: string;
  connectedAt: Date;
}

export interface StreamObserver {
  streamOpened?(stream: StreamInfo): void;
  streamClosed?(stream: StreamInfo): void;
  /** `selection`: the names the version covers (sorted), or null for every resource of the type. */
  responseSent?(stream: StreamInfo, typeUrl: string, version: string, nonce: string, resourceCount: number, selection: readonly string[] | null): void;
  ackReceived?(stream: StreamInfo, typeUrl: string, version: string, nonce: string): void;
  nackReceived?(stream: StreamInfo, typeUrl: string, version: string, nonce: string, message: string): void;
  /** A request the server refused or ignored (bad type URL, unknown names, denied). */
  requestRejected?(stream: StreamInfo | undefined, reason: string): void;
}

/**
 * Fans one report out to several observers. Plain loops, not a closure per report: responses
 * and ACKs of every stream pass through here.
 */
export function combineObservers(observers: readonly StreamObserver[]): StreamObserver {
  return {
    streamOpened(s) {
      for (const o of observers) o.streamOpened?.(s);
    },
    streamClosed(s) {
      for (const o of observers) o.streamClosed?.(s);
    },
    responseSent(s, t, v, n, c, sel) {
      for (const o of observers) o.responseSent?.(s, t, v, n, c, sel);
    },
    ackReceived(s, t, v, n) {
      for (const o of observers) o.ackReceived?.(s, t, v, n);
    },
    nackReceived(s, t, v, n, m) {
      for (const o of observers) o.nackReceived?.(s, t, v, n, m);
    },
    requestRejected(s, r) {
      for (const o of observers) o.requestRejected?.(s, r);
    },
  };
}
