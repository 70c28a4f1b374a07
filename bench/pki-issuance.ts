// Leaf issuance rate of the built-in CA (issue 18's target: 10,000/s on a 2-core machine).
// `node dist/bench/pki-issuance.js [count] [concurrency]`; `--baseline` also times @peculiar/x509's
// own X509CertificateGenerator for the same leaf, which is what issuer.ts avoids.
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CertificateAuthority } from '../src/pki/ca';
import { issueLeaf } from '../src/pki/issuer';
import type { MeshEndpoint } from '../src/pki/types';
import { x509 } from '../src/pki/x509';
import { recordVerdict } from './verdict';

const TRUST_DOMAIN = 'bench.meshd.local';

function endpoint(i: number): MeshEndpoint {
  return { mesh: 'bench', kind: 'virtualNode', name: `node-${i % 500}`, dnsNames: [`node-${i % 500}.bench.local`] };
}

/** Issuances per second, and the process's CPU (every thread) per issuance. */
export interface IssuanceRate { perSecond: number; cpuMicrosEach: number }

/** Issues `count` leaves with `concurrency` in flight. */
export async function benchIssuance(count = 20_000, concurrency = 32): Promise<IssuanceRate> {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshd-bench-pki-'));
  try {
    const ca = await CertificateAuthority.loadOrCreate({ dir, trustDomain: TRUST_DOMAIN });
    const run = async (total: number): Promise<IssuanceRate> => {
      let next = 0;
      const started = process.hrtime.bigint();
      const cpuBefore = process.cpuUsage();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < total) await issueLeaf(ca, endpoint(next++), { trustDomain: TRUST_DOMAIN });
      }));
      const cpu = process.cpuUsage(cpuBefore);
      return { perSecond: total / (Number(process.hrtime.bigint() - started) / 1e9), cpuMicrosEach: (cpu.user + cpu.system) / total };
    };
    await run(Math.min(1000, count)); // warm up JIT and the per-endpoint cache
    return await run(count);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same leaf through X509CertificateGenerator.create with WebCrypto keys, for comparison. */
async function benchBaseline(count: number, concurrency: number): Promise<number> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  type Keys = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];
  const caKeys = (await webcrypto.subtle.generateKey(algorithm, false, ['sign', 'verify'])) as unknown as Keys;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=baseline', keys: caKeys, signingAlgorithm: algorithm, extensions: [new x509.BasicConstraintsExtension(true, undefined, true)] });
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < count) {
      const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as unknown as Keys;
      await x509.X509CertificateGenerator.create({
        subject: 'CN=node', issuer: ca.subject, publicKey: keys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: algorithm,
        notAfter: new Date(Date.now() + 86_400_000),
        extensions: [
          new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${TRUST_DOMAIN}/mesh/bench/virtualNode/node` }, { type: 'dns', value: 'node.bench.local' }]),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        ],
      });
      await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    }
  }));
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

if (require.main === module) {
  const [count, concurrency] = process.argv.slice(2).filter((arg) => !arg.startsWith('--')).map(Number);
  void (async () => {
    const { perSecond, cpuMicrosEach } = await benchIssuance(count || undefined, concurrency || undefined);
    // CPU per issuance is the steadier figure on a shared machine: 2 cores give at most 2e6 / it per second.
    console.log(`pki issuance: ${Math.round(perSecond)} issuances/s (ECDSA P-256 leaves, concurrency ${concurrency || 32}); CPU ${cpuMicrosEach.toFixed(0)} µs per issuance, all threads`);
    recordVerdict({ id: 'issuance-rate', measured: `${Math.round(perSecond).toLocaleString('en-US')}/s (CPU ${cpuMicrosEach.toFixed(0)} µs each)`, met: perSecond >= 10_000 });
    if (process.argv.includes('--baseline')) {
      console.log(`pki issuance baseline (@peculiar/x509 X509CertificateGenerator): ${Math.round(await benchBaseline(2000, concurrency || 32))} issuances/s`);
    }
  })();
}
