import * as net from 'node:net';
import * as path from 'node:path';
import { loadMesh } from '../model/load-mesh';
import { formatError } from '../spec/errors';
import { ensureDevCerts } from '../pki';

/**
 * `meshd certs dev`: a development CA and a certificate per endpoint of a mesh, written once and
 * reused while valid. They stand for "your own CA" in App Mesh's file-based walkthroughs; meshd's
 * own CA (in the state directory) is separate.
 */
export async function runDevCerts(configDir: string, dir: string, trustDomain: string): Promise<{ exitCode: number; output: string }> {
  const result = await loadMesh(configDir, { trustDomain });
  if (!result.ok) return { exitCode: 1, output: result.errors.map(formatError).join('\n') };
  const endpoints = Object.values(result.model.endpoints).map((e) => {
    const hostname = e.serviceDiscovery?.hostname;
    return { mesh: e.meshName, kind: e.kind, name: e.name, dnsNames: hostname && net.isIP(hostname) === 0 ? [hostname] : [] };
  });
  const written = await ensureDevCerts(dir, endpoints, trustDomain);
  const show = (file: string): string => (file.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), file) : file);
  const lines = [`demo CA for \`file\` certificate sources: ${show(written.caBundleFile)} (not meshd's own CA, which \`meshd serve\` keeps in its state directory)`];
  for (const e of written.endpoints) lines.push(`${show(e.certificateChainFile)} (key: ${show(e.privateKeyFile)})`);
  return { exitCode: 0, output: lines.join('\n') };
}
