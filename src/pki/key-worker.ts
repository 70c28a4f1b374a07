// Worker thread of the leaf key pool (key-pool.ts): asked for N keys, it answers with one buffer of
// N SEC1 DER P-256 private keys (each SEC1_P256_LENGTH bytes), moved to the main thread, not
// copied. The keys exist only in memory; nothing here logs.
import { parentPort } from 'node:worker_threads';
import { SEC1_P256_LENGTH, writeNewSec1 } from './leaf-keys';

if (!parentPort) throw new Error('key-worker.js runs as a worker thread of the leaf key pool');
const port = parentPort;

port.on('message', (count: number) => {
  // Buffer.alloc (never the shared pool) so that the whole ArrayBuffer can be transferred.
  const batch = Buffer.alloc(count * SEC1_P256_LENGTH);
  for (let i = 0; i < count; i++) writeNewSec1(batch, i * SEC1_P256_LENGTH);
  port.postMessage(batch, [batch.buffer]);
});
