import { strict as assert } from 'node:assert';
import { formatErrors } from '../../src/spec/errors';
import { parseSpecText } from '../../src/spec/parse';

const node = (spec: string, extra = ''): string => `kind: VirtualNode
meshName: m
virtualNodeName: colorteller
${extra}spec:
${spec}`;

const listener = (tls: string): string => node(`  listeners:
    - portMapping: { port: 8080, protocol: http }
      tls:
${tls}`);

function errorsOf(file: string, text: string): string[] {
  const parsed = parseSpecText(file, text);
  return parsed.errors.length ? formatErrors(parsed.errors).split('\n') : [];
}

// Each row is one file with one kind of mistake and exactly the errors expected for it.
const schemaCases: { name: string; file?: string; text: string; errors: string[] }[] = [
  {
    name: 'a bad TLS mode',
    text: listener('        mode: STRICTLY\n        certificate: { sds: { secretName: default } }'),
    errors: ['nodes.yaml: VirtualNode colorteller: spec.listeners[0].tls.mode: must be STRICT, PERMISSIVE or DISABLED'],
  },
  {
    name: 'an unknown field',
    text: listener('        mode: STRICT\n        certificate: { sds: { secretName: default } }\n        requireClientCert: true'),
    errors: ['nodes.yaml: VirtualNode colorteller: spec.listeners[0].tls.requireClientCert: unknown field'],
  },
  {
    name: 'a missing required field',
    text: listener('        mode: STRICT'),
    errors: ['nodes.yaml: VirtualNode colorteller: spec.listeners[0].tls.certificate: is required'],
  },
  {
    name: 'two certificate sources',
    text: listener('        mode: STRICT\n        certificate: { sds: { secretName: default }, acm: { certificateArn: "arn:aws:acm:us-west-2:111122223333:certificate/c" } }'),
    errors: ['nodes.yaml: VirtualNode colorteller: spec.listeners[0].tls.certificate: must set only one of file, sds or acm (found sds and acm)'],
  },
  {
    name: 'no certificate source',
    text: listener('        mode: STRICT\n        certificate: {}'),
    errors: ['nodes.yaml: VirtualNode colorteller: spec.listeners[0].tls.certificate: must set one of file, sds or acm'],
  },
  {
    name: 'a port given as a string and a bad protocol',
    text: node('  listeners:\n    - portMapping: { port: "8080", protocol: https }'),
    errors: [
      'nodes.yaml: VirtualNode colorteller: spec.listeners[0].portMapping.port: must be a number, not "8080"',
      'nodes.yaml: VirtualNode colorteller: spec.listeners[0].portMapping.protocol: must be http, http2, grpc or tcp',
    ],
  },
  {
    name: 'a port out of range',
    text: node('  listeners:\n    - portMapping: { port: 70000, protocol: http }'),
    errors: ['nodes.yaml: VirtualNode colorteller: spec.listeners[0].portMapping.port: must be at most 65535'],
  },
  {
    name: 'a file certificate without its key',
    text: listener('        mode: STRICT\n        certificate: { file: { certificateChain: /c.pem } }'),
    errors: ['nodes.yaml: VirtualNode colorteller: spec.listeners[0].tls.certificate.file.privateKey: is required'],
  },
  {
    name: 'a timeout and connection pool for another protocol, and a health check on another port',
    text: node('  listeners:\n    - portMapping: { port: 8080, protocol: http }\n      timeout: { grpc: { perRequest: { value: 5, unit: s } } }\n'
      + '      connectionPool: { tcp: { maxConnections: 10 } }\n'
      + '      healthCheck: { protocol: http, path: /ping, port: 9000, healthyThreshold: 2, unhealthyThreshold: 2, intervalMillis: 5000, timeoutMillis: 2000 }'),
    errors: [
      "nodes.yaml: VirtualNode colorteller: spec.listeners[0].timeout.grpc: the listener's protocol is http; use timeout.http",
      "nodes.yaml: VirtualNode colorteller: spec.listeners[0].connectionPool.tcp: the listener's protocol is http; use connectionPool.http",
      "nodes.yaml: VirtualNode colorteller: spec.listeners[0].healthCheck.port: must equal the listener's port (8080)",
    ],
  },
  {
    name: 'a bad meshd setting',
    text: node('  listeners: []', 'meshd: { ingressPort: 0, sidecar: true }\n'),
    errors: [
      'nodes.yaml: VirtualNode colorteller: meshd.ingressPort: must be at least 1',
      'nodes.yaml: VirtualNode colorteller: meshd.sidecar: unknown field',
    ],
  },
  {
    name: 'proxyless on a gateway',
    file: 'gw.yaml',
    text: 'kind: VirtualGateway\nmeshName: m\nvirtualGatewayName: g\nspec: { listeners: [ { portMapping: { port: 8443, protocol: tcp } } ] }\nmeshd: { proxyless: true }\n',
    errors: [
      'gw.yaml: VirtualGateway g: spec.listeners[0].portMapping.protocol: must be http, http2 or grpc',
      'gw.yaml: VirtualGateway g: meshd.proxyless: unknown field',
    ],
  },
  {
    name: 'an unknown kind, naming the resource by its name fields',
    text: 'kind: VirtualThing\nmeshName: m\nvirtualNodeName: n\n',
    errors: ['nodes.yaml: VirtualThing n: kind: must be Mesh, VirtualNode, VirtualGateway, VirtualService, VirtualRouter, Route, GatewayRoute or Secret (found "VirtualThing")'],
  },
  {
    name: 'an unknown kind without name fields, by its place in the file',
    text: 'kind: 7\nspec: {}\n',
    errors: ['nodes.yaml: document 1: kind: must be Mesh, VirtualNode, VirtualGateway, VirtualService, VirtualRouter, Route, GatewayRoute or Secret (found 7)'],
  },
  {
    name: 'a document with neither kind nor name fields',
    text: 'spec: {}\n',
    errors: ['nodes.yaml: document 1: kind: is required (or a name field such as virtualNodeName to infer it from)'],
  },
  {
    name: 'a resource without its name',
    file: 'routes.yaml',
    text: 'kind: Route\nmeshName: m\nvirtualRouterName: r\nspec: { tcpRoute: { action: { weightedTargets: [ { virtualNode: a, weight: 1 } ] } } }\n',
    errors: ['routes.yaml: Route (document 1): routeName: is required'],
  },
  {
    name: 'a route with two route types and a gRPC method without service',
    file: 'routes.yaml',
    text: `kind: Route
meshName: m
virtualRouterName: r
routeName: rt
spec:
  grpcRoute: { match: { methodName: Get }, action: { weightedTargets: [ { virtualNode: a, weight: 101 } ] } }
  tcpRoute: { action: { weightedTargets: [ { virtualNode: a, weight: 1 } ] } }
`,
    errors: [
      'routes.yaml: Route rt: spec.grpcRoute.action.weightedTargets[0].weight: must be at most 100',
      'routes.yaml: Route rt: spec.grpcRoute.match.methodName: needs match.serviceName as well',
      'routes.yaml: Route rt: spec: must set only one of httpRoute, http2Route, grpcRoute or tcpRoute (found grpcRoute and tcpRoute)',
    ],
  },
  {
    name: 'a gateway route with a bad method and hostname match',
    file: 'gr.yaml',
    text: `kind: GatewayRoute
meshName: m
virtualGatewayName: g
gatewayRouteName: gr
spec:
  httpRoute:
    match: { prefix: /, method: FETCH, hostname: { exact: a.example, suffix: example } }
    action: { target: { virtualService: { virtualServiceName: s } } }
`,
    errors: [
      'gr.yaml: GatewayRoute gr: spec.httpRoute.match.hostname: must set only one of exact or suffix (found exact and suffix)',
      'gr.yaml: GatewayRoute gr: spec.httpRoute.match.method: must be GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE or PATCH',
    ],
  },
  {
    name: 'a Secret with a key but no chain',
    file: 'secrets.yaml',
    text: 'kind: Secret\nmeshName: m\nsecretName: s\nspec: { file: { privateKey: /k.pem } }\n',
    errors: ['secrets.yaml: Secret s: spec.file.certificateChain: is required with privateKey'],
  },
  {
    name: 'metadata on a resource written in the kind form',
    file: 'mesh.yaml',
    text: 'kind: Mesh\nmeshName: m\nmetadata: { uid: x }\n',
    errors: ['mesh.yaml: Mesh m: metadata: unknown field'],
  },
];

describe('spec/parse', () => {
  for (const row of schemaCases) {
    it(`reports ${row.name}`, () => {
      assert.deepEqual(errorsOf(row.file ?? 'nodes.yaml', row.text), row.errors);
    });
  }

  it('reports every error of every document at once', () => {
    const text = [schemaCases[0]!.text, schemaCases[5]!.text.replace('colorteller', 'other'), 'kind: Mesh\nmeshName: ok\n'].join('\n---\n');
    const parsed = parseSpecText('nodes.yaml', text);
    assert.deepEqual(formatErrors(parsed.errors).split('\n'), [
      ...schemaCases[0]!.errors,
      ...schemaCases[5]!.errors.map((line) => line.replace('colorteller', 'other')),
    ]);
    assert.deepEqual(parsed.resources.map((r) => r.kind), ['Mesh']);
    assert.deepEqual(parsed.invalid.map((r) => r.name), ['colorteller', 'other']);
  });

  it('reads multi-document YAML, skipping empty documents, and records where each came from', () => {
    const parsed = parseSpecText('all.yml', '---\nkind: Mesh\nmeshName: m\n---\n# nothing here\n---\nkind: VirtualService\nmeshName: m\nvirtualServiceName: s\nspec: {}\n---\n');
    assert.deepEqual(parsed.errors, []);
    assert.deepEqual(parsed.resources.map((r) => [r.kind, r.source.file, r.source.index]), [['Mesh', 'all.yml', 0], ['VirtualService', 'all.yml', 2]]);
  });

  it('names the file and line of a YAML syntax error', () => {
    assert.deepEqual(errorsOf('broken.yaml', 'kind: Mesh\nmeshName: m\nspec:\n  egressFilter: { type: ALLOW_ALL\n'), [
      'broken.yaml:5:1: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
    assert.deepEqual(errorsOf('dup.yaml', 'kind: Mesh\nmeshName: m\nmeshName: n\n'), ['dup.yaml:3:1: YAML syntax error: Map keys must be unique']);
  });

  it('names the file and line of a JSON syntax error', () => {
    const errors = errorsOf('node.json', '{\n  "meshName": "m",\n  "virtualNodeName": "a",\n  "spec": { "listeners": [ }\n}\n');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^node\.json:4:\d+: JSON syntax error: /);
  });

  describe('create-* and describe-* JSON', () => {
    const inferred: { name: string; json: unknown; kind: string }[] = [
      { name: 'create-mesh', json: { meshName: 'm', spec: { egressFilter: { type: 'ALLOW_ALL' } }, tags: [{ key: 'team', value: 'x' }] }, kind: 'Mesh' },
      {
        name: 'create-virtual-node',
        json: { meshName: 'm', virtualNodeName: 'a', clientToken: 't', spec: { listeners: [{ portMapping: { port: 80, protocol: 'http' } }], serviceDiscovery: { dns: { hostname: 'a.local' } } } },
        kind: 'VirtualNode',
      },
      { name: 'create-virtual-router', json: { meshName: 'm', virtualRouterName: 'r', spec: { listeners: [{ portMapping: { port: 80, protocol: 'http' } }] } }, kind: 'VirtualRouter' },
      {
        name: 'create-route',
        json: { meshName: 'm', virtualRouterName: 'r', routeName: 'rt', spec: { httpRoute: { match: { prefix: '/' }, action: { weightedTargets: [{ virtualNode: 'a', weight: 1 }] } } } },
        kind: 'Route',
      },
      {
        name: 'create-gateway-route',
        json: { meshName: 'm', virtualGatewayName: 'g', gatewayRouteName: 'gr', spec: { grpcRoute: { match: { serviceName: 'svc' }, action: { target: { virtualService: { virtualServiceName: 's' } } } } } },
        kind: 'GatewayRoute',
      },
      { name: 'create-virtual-service', json: { meshName: 'm', virtualServiceName: 's', spec: {} }, kind: 'VirtualService' },
    ];
    for (const row of inferred) {
      it(`accepts ${row.name} input and infers kind ${row.kind}`, () => {
        const parsed = parseSpecText('in.json', JSON.stringify(row.json));
        assert.deepEqual(parsed.errors, []);
        assert.equal(parsed.resources[0]!.kind, row.kind);
      });
    }

    it('accepts describe-virtual-node output, ignoring metadata and status', () => {
      const described = {
        virtualNode: {
          meshName: 'm',
          virtualNodeName: 'a',
          spec: { listeners: [{ portMapping: { port: 80, protocol: 'http' }, tls: { mode: 'PERMISSIVE', certificate: { sds: { secretName: 'default' } } } }] },
          metadata: { arn: 'arn:aws:appmesh:us-west-2:1:mesh/m/virtualNode/a', version: 3, uid: 'u', createdAt: '2020-01-01T00:00:00Z', meshOwner: '1', resourceOwner: '1' },
          status: { status: 'ACTIVE' },
        },
      };
      const parsed = parseSpecText('describe.json', JSON.stringify(described, null, 4));
      assert.deepEqual(parsed.errors, []);
      const resource = parsed.resources[0]!;
      assert.equal(resource.kind, 'VirtualNode');
      assert.ok(!('metadata' in resource) && !('status' in resource));
    });

    it('reports errors inside describe-* output against the resource', () => {
      const described = { route: { meshName: 'm', virtualRouterName: 'r', routeName: 'rt', spec: { httpRoute: { match: { prefix: '/' }, action: { weightedTargets: [] } } }, status: { status: 'ACTIVE' } } };
      assert.deepEqual(errorsOf('describe.json', JSON.stringify(described)), [
        'describe.json: Route rt: spec.httpRoute.action.weightedTargets: must have at least 1 item',
      ]);
    });

    it('accepts a JSON list of resources', () => {
      const parsed = parseSpecText('list.json', JSON.stringify([{ meshName: 'm' }, { kind: 'VirtualService', meshName: 'm', virtualServiceName: 's', spec: {} }]));
      assert.deepEqual(parsed.resources.map((r) => [r.kind, r.source.index]), [['Mesh', 0], ['VirtualService', 1]]);
    });
  });

  describe('hostile and large input', () => {
    // One resource per document; `&tls` shared by every listener, the way real specs reuse anchors.
    const anchoredNode = (aliases: number): string => `kind: VirtualNode
meshName: m
virtualNodeName: many-ports
spec:
  listeners:
    - portMapping: { port: 1, protocol: http }
      tls: &tls { mode: DISABLED, certificate: { sds: { secretName: default } } }
${Array.from({ length: aliases }, (_, i) => `    - portMapping: { port: ${i + 2}, protocol: http }\n      tls: *tls\n`).join('')}`;

    it('accepts a legitimate document that reuses one anchor 120 times', () => {
      const parsed = parseSpecText('ports.yaml', anchoredNode(120));
      assert.deepEqual(parsed.errors, []);
      assert.equal(parsed.resources.length, 1);
    });

    it('refuses a billion-laughs alias bomb as an error naming the file and the limit, without throwing', () => {
      const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
      for (let level = 1; level < 9; level += 1) {
        const previous = String.fromCharCode(96 + level);
        const name = String.fromCharCode(97 + level);
        levels.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(',')}]`);
      }
      const errors = errorsOf('bomb.yaml', `kind: Mesh\nmeshName: m\n${levels.join('\n')}\n`);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, /^bomb\.yaml: document 1: expands YAML aliases more than 1000 times \(--spec-max-aliases\)/);
    });

    it('reports an alias without its anchor instead of throwing', () => {
      assert.deepEqual(errorsOf('alias.yaml', 'kind: Mesh\nmeshName: *nope\n'), [
        'alias.yaml: document 1: YAML error: Unresolved alias (the anchor must be set before the alias): nope',
      ]);
    });

    it('refuses a file of 130,000 documents as one error naming the file and the limit', () => {
      const errors = errorsOf('many.yaml', '---\nkind: Mesh\nmeshName: m\n'.repeat(130_000));
      assert.deepEqual(errors, ['many.yaml: holds more than 10000 documents (--spec-max-documents); none of them was read']);
    });

    it('counts the resources of a JSON list against the same limit', () => {
      const errors = errorsOf('many.json', JSON.stringify(Array.from({ length: 10_001 }, () => ({ meshName: 'm' }))));
      assert.deepEqual(errors, ['many.json: holds more than 10000 documents (--spec-max-documents); none of them was read']);
    });
  });
});
