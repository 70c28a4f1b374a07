// The synthetic mesh the translation and one-file-change benchmarks use: N virtual nodes, each
// with a STRICT mTLS listener (an ACM leaf, meshd's CA as trust) and 5 backends (the next 5
// services round the ring) behind a TLS client policy, each node providing one virtual service.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const BACKENDS = 5;

/** Virtual node i; `mode` is its listener's TLS mode (STRICT, or PERMISSIVE for "a change"). */
export function nodeJson(i: number, nodes: number, mode: string): object {
  return {
    kind: 'VirtualNode', meshName: 'bench', virtualNodeName: `node-${i}`,
    spec: {
      listeners: [{
        portMapping: { port: 8080, protocol: 'http' },
        tls: {
          mode,
          certificate: { acm: { certificateArn: `arn:aws:acm:r:1:certificate/node-${i}` } },
          validation: { trust: { sds: { secretName: 'ROOTCA' } } },
        },
      }],
      serviceDiscovery: { dns: { hostname: `node-${i}.bench.local` } },
      backends: Array.from({ length: BACKENDS }, (_, k) => ({ virtualService: { virtualServiceName: `svc-${(i + k + 1) % nodes}` } })),
      backendDefaults: { clientPolicy: { tls: { certificate: { sds: { secretName: 'default' } }, validation: { trust: { sds: { secretName: 'ROOTCA' } } } } } },
    },
  };
}

/** The virtual service node i provides. */
export function serviceJson(i: number): object {
  return { kind: 'VirtualService', meshName: 'bench', virtualServiceName: `svc-${i}`, spec: { provider: { virtualNode: { virtualNodeName: `node-${i}` } } } };
}

export function meshJson(): object {
  return { kind: 'Mesh', meshName: 'bench', spec: {} };
}

/** Every resource as one JSON array of documents; node `changed` gets `changedMode`. */
export function meshText(nodes: number, changed: number, changedMode: string): string {
  const docs: object[] = [meshJson()];
  for (let i = 0; i < nodes; i++) {
    docs.push(nodeJson(i, nodes, i === changed ? changedMode : 'STRICT'));
    docs.push(serviceJson(i));
  }
  return JSON.stringify(docs);
}

/** The same mesh as a directory of one file per resource (how specs are usually kept). */
export function writeMeshFiles(dir: string, nodes: number): void {
  fs.writeFileSync(path.join(dir, 'mesh.json'), JSON.stringify(meshJson()));
  for (let i = 0; i < nodes; i++) {
    fs.writeFileSync(path.join(dir, `node-${i}.json`), JSON.stringify(nodeJson(i, nodes, 'STRICT')));
    fs.writeFileSync(path.join(dir, `svc-${i}.json`), JSON.stringify(serviceJson(i)));
  }
}
