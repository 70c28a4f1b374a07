// The load, in its own process: K ADS state-of-the-world streams with distinct node ids, spread
// over several gRPC channels (each its own HTTP/2 connection), each subscribed to CDS by wildcard
// and ACKing every response at once. It reads only a response's version, type and nonce, so its
// own cost per message stays small. It reports when every stream has ACKed the version it was
// told to expect, with the time of the last ACK.
//   open {target, k, perChannel, version}  opens the streams; replies once all have ACKed `version`
//                                          (after a close, opens them anew: a reconnect storm)
//   expect {version}                       the version the next push carries
//   stats                                  own RSS, streams alive, ACKs sent
//   close                                  ends every stream and channel
// Events: progress {opened, acked}, allAcked {version, lastAckAt, firstResponseAt}, streamFailed.
import * as grpc from '@grpc/grpc-js';
import { TypeUrl } from '../src/xds/type-urls';
import { benchNodeId } from './generation-snapshot';
import { emitEvent, nowMs, serveCommands } from './ipc';
import { ackRequest, initialRequest, readResponseHeader } from './proto-bytes';

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const passThrough = (value: Buffer): Buffer => value;

interface LoadStream {
  call: grpc.ClientDuplexStream<Buffer, Buffer>;
  ackedVersion: string;
  /** Set when the orchestrator closed it: its ending is not a failure, and it is not counted. */
  retired: boolean;
}

let channels: grpc.Client[] = [];
let streams: LoadStream[] = [];
let expected = '';
let ackedExpected = 0;
let firstResponseAt = 0;
let lastAckAt = 0;
let acksSent = 0;
let alive = 0;
let failureReported = false;
let onAllAcked: (() => void) | undefined;

/** The last ACK built, reused while versions and nonces repeat across streams. */
let ackCache: { key: string; bytes: Buffer } = { key: '', bytes: Buffer.alloc(0) };

function ackFor(typeUrl: string, versionInfo: string, nonce: string): Buffer {
  const key = `${typeUrl}\u0000${versionInfo}\u0000${nonce}`;
  if (ackCache.key !== key) ackCache = { key, bytes: ackRequest(typeUrl, versionInfo, nonce) };
  return ackCache.bytes;
}

function onResponse(stream: LoadStream, bytes: Buffer): void {
  if (stream.retired) return;
  const header = readResponseHeader(bytes);
  const isExpected = header.versionInfo === expected;
  if (isExpected && firstResponseAt === 0) firstResponseAt = nowMs();
  stream.call.write(ackFor(header.typeUrl, header.versionInfo, header.nonce));
  acksSent++;
  if (stream.ackedVersion === header.versionInfo) return;
  stream.ackedVersion = header.versionInfo;
  if (!isExpected) return;
  lastAckAt = nowMs();
  ackedExpected++;
  if (ackedExpected === streams.length) {
    emitEvent({ type: 'allAcked', version: expected, lastAckAt, firstResponseAt });
    onAllAcked?.();
  }
}

function reportFailure(index: number, what: string): void {
  if (failureReported) return;
  failureReported = true;
  emitEvent({ type: 'streamFailed', message: `stream ${index} (${benchNodeId(index)}): ${what}` });
}

function openStreams(target: string, count: number, perChannel: number): void {
  const channelCount = Math.ceil(count / perChannel);
  for (let c = 0; c < channelCount; c++) {
    // A local subchannel pool gives every channel its own connection instead of sharing one.
    channels.push(new grpc.Client(target, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    }));
  }
  for (let i = 0; i < count; i++) {
    const channel = channels[Math.floor(i / perChannel)]!;
    const call = channel.makeBidiStreamRequest(ADS_PATH, passThrough, passThrough, new grpc.Metadata());
    const stream: LoadStream = { call, ackedVersion: '', retired: false };
    streams.push(stream);
    alive++;
    call.on('data', (bytes: Buffer) => onResponse(stream, bytes));
    call.on('status', (status: grpc.StatusObject) => {
      alive--;
      if (!stream.retired) reportFailure(i, `ended with status ${grpc.status[status.code]}: ${status.details}`);
    });
    call.on('error', () => undefined); // reported through 'status'
    call.write(initialRequest(benchNodeId(i), TypeUrl.Cluster));
  }
}

function setExpected(version: string): number {
  expected = version;
  firstResponseAt = 0;
  lastAckAt = 0;
  ackedExpected = streams.reduce((n, s) => n + (s.ackedVersion === version ? 1 : 0), 0);
  return ackedExpected;
}

serveCommands('ads-load-client', async (command) => {
  switch (command.type) {
    case 'open': {
      const count = Number(command.k);
      const startedAt = nowMs();
      const done = new Promise<void>((resolve) => { onAllAcked = resolve; });
      setExpected(String(command.version));
      openStreams(String(command.target), count, Number(command.perChannel));
      const progress = setInterval(() => emitEvent({ type: 'progress', opened: streams.length, acked: ackedExpected, alive }), 1000);
      try {
        await done;
      } finally {
        clearInterval(progress);
        onAllAcked = undefined;
      }
      return { ms: nowMs() - startedAt, channels: channels.length };
    }
    case 'expect': {
      const already = setExpected(String(command.version));
      if (already === streams.length) emitEvent({ type: 'allAcked', version: expected, lastAckAt: nowMs(), firstResponseAt: nowMs() });
      return { alreadyAcked: already };
    }
    case 'stats':
      return { rssBytes: process.memoryUsage().rss, alive, acked: ackedExpected, acksSent };
    case 'close': {
      const closed = streams.length;
      for (const stream of streams) {
        stream.retired = true;
        stream.call.end();
      }
      for (const channel of channels) channel.close();
      streams = [];
      channels = [];
      return { closed };
    }
    default:
      throw new Error(`unknown command "${String(command.type)}"`);
  }
});
