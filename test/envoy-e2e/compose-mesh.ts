// Writes the compose variant of the demo mesh (test/envoy-e2e/compose-mesh/, committed, mounted
// into meshd by docker-compose.envoy.yml) from examples/colorapp: every virtual node is found by
// its compose service name and every Envoy listens on all interfaces of its container. A test
// regenerates it and compares, so the two never drift.
//   node dist/test/envoy-e2e/compose-mesh.js   (rewrites test/envoy-e2e/compose-mesh/)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rewriteForCompose } from './mesh-plan';

export const COMPOSE_MESH_DIR = path.resolve(__dirname, '../../../test/envoy-e2e/compose-mesh');
const SOURCE = path.resolve(__dirname, '../../../examples/colorapp');

/** Writes the compose variant of `source` into `target` (replacing its spec files). */
export function writeComposeMesh(target: string, source: string = SOURCE): void {
  fs.mkdirSync(target, { recursive: true });
  for (const name of fs.readdirSync(target)) if (/\.(ya?ml|json)$/.test(name)) fs.rmSync(path.join(target, name));
  for (const name of fs.readdirSync(source)) if (/\.(ya?ml|json)$/.test(name)) fs.copyFileSync(path.join(source, name), path.join(target, name));
  rewriteForCompose(target);
}

if (require.main === module) {
  writeComposeMesh(COMPOSE_MESH_DIR);
  process.stdout.write(`wrote ${COMPOSE_MESH_DIR}\n`);
}
