// The baseline, in its own process: a bare grpc-js server on the same ADS method path that does
// the least a push can cost. It holds one pre-encoded DiscoveryResponse (meshd's own encoding of
// the same generation, with a constant nonce), answers a stream's first request with it, and on
// publish writes that one Buffer to every open stream. Requests after the first are only counted.
//   load {generation, body}  the shared body meshd built for g (base64); nothing is sent yet
//   publish {generation}     writes g's bytes to every open stream (this is the push)
//   stats                    own CPU time, RSS and open stream count
import * as grpc from '@grpc/grpc-js';
import { emitEvent, nowMs, ownStats, serveCommands } from './ipc';
import { field, ResponseField } from './proto-bytes';

const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
const passThrough = (value: Buffer): Buffer => value;

type RawDuplex = grpc.ServerDuplexStream<Buffer, Buffer>;

const loaded = new Map<number, Buffer>();
let current: Buffer | undefined;
const streams = new Set<RawDuplex>();
let requestsAfterFirst = 0;

function onStream(call: RawDuplex): void {
  let first = true;
  call.on('data', () => {
    if (!first) {
      requestsAfterFirst++;
      return;
    }
    first = false;
    streams.add(call);
    if (current) call.write(current);
  });
  const forget = (): void => { streams.delete(call); };
  call.on('end', () => { forget(); call.end(); });
  call.on('error', forget);
  call.on('cancelled', forget);
  call.on('close', forget);
}

async function main(): Promise<void> {
  // The same server options as meshd's XdsServer, so transport settings are not a difference.
  const server = new grpc.Server({
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  });
  const method: grpc.MethodDefinition<Buffer, Buffer> = {
    path: `/${ADS_SERVICE}/StreamAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  };
  server.addService({ StreamAggregatedResources: method }, { StreamAggregatedResources: onStream });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });

  serveCommands('bare-server', (command) => {
    switch (command.type) {
      case 'load': {
        const generation = Number(command.generation);
        const body = Buffer.from(String(command.body), 'base64');
        loaded.set(generation, Buffer.concat([body, field(ResponseField.nonce, `g${generation}`)]));
        return { bytes: loaded.get(generation)!.length };
      }
      case 'publish': {
        const generation = Number(command.generation);
        const bytes = loaded.get(generation);
        if (!bytes) throw new Error(`generation ${generation} was not loaded`);
        loaded.delete(generation);
        const before = ownStats(streams.size);
        const startedAt = nowMs();
        current = bytes;
        for (const call of streams) call.write(bytes);
        return { cpuMsAtStart: before.cpuMs, syncMs: nowMs() - startedAt };
      }
      case 'stats':
        return { ...ownStats(streams.size), requestsAfterFirst };
      default:
        throw new Error(`unknown command "${String(command.type)}"`);
    }
  });
  emitEvent({ type: 'listening', port });
}

main().catch((err: unknown) => {
  console.error('bare-server failed:', err);
  process.exit(1);
});
