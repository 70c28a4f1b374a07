import { strict as assert } from 'node:assert';
import { baseMesh, doc, errorsOf, model, setIn, type SpecFiles } from './fixtures';

// Each row breaks the valid base mesh in one way and expects exactly these errors.
const referenceCases: { name: string; edit: (files: SpecFiles) => void; errors: string[] }[] = [
  {
    name: 'a backend naming a missing virtual service',
    edit: (f) => setIn(doc(f, 'a'), 'spec.backends.0.virtualService.virtualServiceName', 'svc-x'),
    errors: ['nodes.yaml: VirtualNode a: spec.backends[0].virtualService.virtualServiceName: virtual service "svc-x" does not exist in mesh "m"'],
  },
  {
    name: 'a virtual service provider naming a missing router',
    edit: (f) => setIn(doc(f, 'svc-b'), 'spec.provider.virtualRouter.virtualRouterName', 'r2'),
    errors: ['routing.yaml: VirtualService svc-b: spec.provider.virtualRouter.virtualRouterName: virtual router "r2" does not exist in mesh "m"'],
  },
  {
    name: 'a virtual service provider naming a missing node',
    edit: (f) => setIn(doc(f, 'svc-b'), 'spec.provider', { virtualNode: { virtualNodeName: 'zz' } }),
    errors: ['routing.yaml: VirtualService svc-b: spec.provider.virtualNode.virtualNodeName: virtual node "zz" does not exist in mesh "m"'],
  },
  {
    name: 'a route target naming a missing virtual node',
    edit: (f) => setIn(doc(f, 'rt'), 'spec.httpRoute.action.weightedTargets', [{ virtualNode: 'b', weight: 50 }, { virtualNode: 'c', weight: 50 }]),
    errors: ['routing.yaml: Route rt: spec.httpRoute.action.weightedTargets[1].virtualNode: virtual node "c" does not exist in mesh "m"'],
  },
  {
    name: 'a route whose router does not exist',
    edit: (f) => setIn(doc(f, 'rt'), 'virtualRouterName', 'r9'),
    errors: ['routing.yaml: Route rt: virtualRouterName: virtual router "r9" does not exist in mesh "m"'],
  },
  {
    name: 'a route of a protocol its router does not listen with',
    edit: (f) => setIn(doc(f, 'rt'), 'spec', { tcpRoute: { action: { weightedTargets: [{ virtualNode: 'b', weight: 1 }] } } }),
    errors: ['routing.yaml: Route rt: spec.tcpRoute: virtual router "r" has no tcp listener (it has http)'],
  },
  {
    name: 'a route target port that the node does not listen on',
    edit: (f) => setIn(doc(f, 'rt'), 'spec.httpRoute.action.weightedTargets.0.port', 9999),
    errors: ['routing.yaml: Route rt: spec.httpRoute.action.weightedTargets[0].port: virtual node "b" has no listener on port 9999'],
  },
  {
    name: 'weights that are all zero',
    edit: (f) => setIn(doc(f, 'rt'), 'spec.httpRoute.action.weightedTargets.0.weight', 0),
    errors: ['routing.yaml: Route rt: spec.httpRoute.action.weightedTargets: weights are all zero: the route would send no traffic'],
  },
  {
    name: 'a gateway route to a missing virtual service',
    edit: (f) => setIn(doc(f, 'gr'), 'spec.httpRoute.action.target.virtualService.virtualServiceName', 'nothing'),
    errors: ['gateway.yaml: GatewayRoute gr: spec.httpRoute.action.target.virtualService.virtualServiceName: virtual service "nothing" does not exist in mesh "m"'],
  },
  {
    name: 'a gateway route of a missing gateway',
    edit: (f) => setIn(doc(f, 'gr'), 'virtualGatewayName', 'g2'),
    errors: ['gateway.yaml: GatewayRoute gr: virtualGatewayName: virtual gateway "g2" does not exist in mesh "m"'],
  },
  {
    name: 'duplicate names (reported where the second one is)',
    edit: (f) => { f['more.yaml'] = [{ ...doc(f, 'b') }]; },
    errors: ['more.yaml: VirtualNode b: virtualNodeName: duplicate name: already defined in nodes.yaml (document 2)'],
  },
  {
    name: 'a resource of a mesh that does not exist',
    edit: (f) => setIn(doc(f, 'svc-b'), 'meshName', 'other'),
    errors: [
      'gateway.yaml: GatewayRoute gr: spec.httpRoute.action.target.virtualService.virtualServiceName: virtual service "svc-b" does not exist in mesh "m"',
      'nodes.yaml: VirtualNode a: spec.backends[0].virtualService.virtualServiceName: virtual service "svc-b" does not exist in mesh "m"',
      'routing.yaml: VirtualService svc-b: meshName: mesh "other" does not exist',
    ],
  },
  {
    name: 'duplicate listener ports on one endpoint',
    edit: (f) => setIn(doc(f, 'a'), 'spec.listeners', [
      { portMapping: { port: 8080, protocol: 'http' } }, { portMapping: { port: 8081, protocol: 'http' } }, { portMapping: { port: 8080, protocol: 'tcp' } },
    ]),
    errors: ['nodes.yaml: VirtualNode a: spec.listeners[2].portMapping.port: port 8080 is already used by spec.listeners[0]'],
  },
  {
    name: 'the same backend listed twice',
    edit: (f) => setIn(doc(f, 'a'), 'spec.backends', [
      { virtualService: { virtualServiceName: 'svc-b' } }, { virtualService: { virtualServiceName: 'svc-b' } },
    ]),
    errors: ['nodes.yaml: VirtualNode a: spec.backends[1].virtualService.virtualServiceName: virtual service "svc-b" is already a backend (spec.backends[0])'],
  },
  {
    name: 'proxy ports clashing with each other and with the application port',
    edit: (f) => setIn(doc(f, 'a'), 'meshd', { ingressPort: 8080, egressPort: 15001, adminPort: 15001 }),
    errors: [
      'nodes.yaml: VirtualNode a: meshd.ingressPort: port 8080 is also the application port of spec.listeners[0]',
      'nodes.yaml: VirtualNode a: meshd.adminPort: port 15001 is also the egressPort',
    ],
  },
];

describe('model/build', () => {
  it('builds the valid base mesh', () => {
    const built = model(baseMesh());
    assert.deepEqual(Object.keys(built.endpoints), ['mesh/m/virtualGateway/g', 'mesh/m/virtualNode/a', 'mesh/m/virtualNode/b']);
    assert.deepEqual(built.meshes, ['m']);
  });

  for (const row of referenceCases) {
    it(`refuses ${row.name}`, () => {
      const files = baseMesh();
      row.edit(files);
      assert.deepEqual(errorsOf(files), row.errors);
    });
  }

  it('reports every reference error of a mesh at once', () => {
    const files = baseMesh();
    const rows = [0, 3, 8, 12, 14].map((i) => referenceCases[i]!);
    for (const row of rows) row.edit(files);
    const errors = errorsOf(files);
    assert.deepEqual([...errors].sort(), rows.flatMap((row) => row.errors).sort());
    // Ordered by file, so one file's problems read together.
    const fileNames = errors.map((line) => line.split(':')[0]);
    assert.deepEqual(fileNames, [...fileNames].sort());
    assert.equal(errors.length, 6);
  });

  it('does not report references to resources that are named but invalid', () => {
    const files = baseMesh();
    setIn(doc(files, 'b'), 'spec.listeners.0.tls.mode', 'ON');
    assert.deepEqual(errorsOf(files), [
      'nodes.yaml: VirtualNode b: spec.listeners[0].tls.mode: must be STRICT, PERMISSIVE or DISABLED',
    ]);
  });
});

describe('model/build: every error of every stage in one run', () => {
  it('checks the references and ports of a virtual node that also has schema errors', () => {
    const files = baseMesh();
    setIn(doc(files, 'a'), 'spec.listeners.0.tls', { mode: 'SOMETIMES', certificate: { sds: { secretName: 'default' } } });
    setIn(doc(files, 'a'), 'spec.backends', ['svc-x', 'svc-b', 'svc-b'].map((name) => ({ virtualService: { virtualServiceName: name } })));
    setIn(doc(files, 'a'), 'meshd', { ingressPort: 8080 });
    assert.deepEqual(errorsOf(files), [
      'nodes.yaml: VirtualNode a: spec.listeners[0].tls.mode: must be STRICT, PERMISSIVE or DISABLED',
      'nodes.yaml: VirtualNode a: meshd.ingressPort: port 8080 is also the application port of spec.listeners[0]',
      'nodes.yaml: VirtualNode a: spec.backends[0].virtualService.virtualServiceName: virtual service "svc-x" does not exist in mesh "m"',
      'nodes.yaml: VirtualNode a: spec.backends[2].virtualService.virtualServiceName: virtual service "svc-b" is already a backend (spec.backends[1])',
    ]);
  });

  it('reports a route error in another file beside schema errors of virtual nodes and of the mesh', () => {
    const files = baseMesh();
    setIn(doc(files, 'm'), 'spec', { egressFilter: { type: 'ALLOW_SOME' } });
    setIn(doc(files, 'b'), 'spec.listeners.0.tls.certificate.acm.certificateArn', 'not-an-arn');
    setIn(doc(files, 'a'), 'spec.logging', { accessLog: { file: { path: '' } } });
    setIn(doc(files, 'rt'), 'spec.httpRoute.action.weightedTargets.0.weight', 0);
    setIn(doc(files, 'gr'), 'spec.httpRoute.action.target.virtualService.virtualServiceName', 'nothing');
    assert.deepEqual(errorsOf(files), [
      'mesh.yaml: Mesh m: spec.egressFilter.type: must be ALLOW_ALL or DROP_ALL',
      'nodes.yaml: VirtualNode a: spec.logging.accessLog.file.path: must not be empty',
      'nodes.yaml: VirtualNode b: spec.listeners[0].tls.certificate.acm.certificateArn: must be an ACM certificate ARN (arn:<partition>:acm:<region>:<account>:certificate/<id>)',
      'gateway.yaml: GatewayRoute gr: spec.httpRoute.action.target.virtualService.virtualServiceName: virtual service "nothing" does not exist in mesh "m"',
      'routing.yaml: Route rt: spec.httpRoute.action.weightedTargets: weights are all zero: the route would send no traffic',
    ]);
  });

  it('checks the target of a gateway route whose gateway has schema errors', () => {
    const files = baseMesh();
    setIn(doc(files, 'g'), 'spec.listeners.0.portMapping.protocol', 'tcp');
    setIn(doc(files, 'gr'), 'spec.httpRoute.action.target.virtualService.virtualServiceName', 'nothing');
    assert.deepEqual(errorsOf(files), [
      'gateway.yaml: VirtualGateway g: spec.listeners[0].portMapping.protocol: must be http, http2 or grpc',
      'gateway.yaml: GatewayRoute gr: spec.httpRoute.action.target.virtualService.virtualServiceName: virtual service "nothing" does not exist in mesh "m"',
    ]);
  });

  it('does not report references to a resource of an unknown kind as missing', () => {
    const files = baseMesh();
    setIn(doc(files, 'b'), 'kind', 'VirtualNod');
    assert.deepEqual(errorsOf(files), [
      'nodes.yaml: VirtualNod b: kind: must be Mesh, VirtualNode, VirtualGateway, VirtualService, VirtualRouter, Route, GatewayRoute or Secret (found "VirtualNod")',
    ]);
  });
});
