import { strict as assert } from 'node:assert';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import * as path from 'node:path';
import { LeafKeyPool } from '../../src/pki/key-pool';
import { tempDir } from './helpers';

/** The public key a PKCS#8 PEM private key belongs to, as SPKI DER. */
function publicOf(privateKeyPem: string): Buffer {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'der' });
}

describe('pki/key-pool', () => {
  it('hands out distinct, matching key pairs, more than it holds, to concurrent takers', async () => {
    const pool = new LeafKeyPool({ capacity: 16, batchSize: 8, workers: 2 });
    try {
      const pairs = await Promise.all(Array.from({ length: 100 }, () => pool.take()));
      assert.equal(new Set(pairs.map((pair) => pair.privateKeyPem)).size, 100);
      for (const pair of pairs.slice(0, 10)) assert.deepEqual(pair.publicKeySpkiDer, publicOf(pair.privateKeyPem));
    } finally {
      await pool.close();
    }
  });

  it('fills itself ahead after the first request, up to its capacity', async () => {
    const pool = new LeafKeyPool({ capacity: 32, batchSize: 16, workers: 1 });
    try {
      assert.equal(pool.available, 0, 'no worker and no key before the first request');
      await pool.take();
      const deadline = Date.now() + 20_000;
      while (pool.available < 32 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(pool.available, 32);
    } finally {
      await pool.close();
    }
  });

  it('generates keys itself when its worker cannot run', async () => {
    const temp = tempDir('key-pool');
    const pool = new LeafKeyPool({ workerScript: path.join(temp.dir, 'missing-worker.js') });
    try {
      const pairs = await Promise.all([pool.take(), pool.take(), pool.take()]);
      for (const pair of pairs) assert.deepEqual(pair.publicKeySpkiDer, publicOf(pair.privateKeyPem));
      assert.equal(new Set(pairs.map((pair) => pair.privateKeyPem)).size, 3);
    } finally {
      await pool.close();
      temp.cleanup();
    }
  });
});
