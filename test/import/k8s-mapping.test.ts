import { strict as assert } from 'node:assert';
import { mapManifests, selectorMatches } from '../../src/import/k8s-mapping';
import { readManifests } from '../../src/import/k8s-manifests';
import { formatError } from '../../src/spec/errors';
import type { ImportResult } from '../../src/import/imported';

const V = 'apiVersion: appmesh.k8s.aws/v1beta2';

function mapped(text: string): ImportResult {
  return mapManifests(readManifests([{ name: 'in.yaml', text }], 1000));
}

function bodies(result: ImportResult): unknown[] {
  return result.resources.map((resource) => resource.body);
}

describe('import: App Mesh controller resources to meshd resources', () => {
  it('uses the controller\'s default names unless awsName is set, and resolves refs and ARNs to names', () => {
    const result = mapped(`${V}
kind: Mesh
metadata: { name: shop }
spec: { namespaceSelector: {} }
---
${V}
kind: VirtualNode
metadata: { name: api, namespace: prod }
spec:
  listeners: [{ portMapping: { port: 80, protocol: http } }]
  serviceDiscovery: { dns: { hostname: api.prod } }
---
${V}
kind: VirtualNode
metadata: { name: legacy, namespace: prod }
spec: { awsName: legacy-node }
---
${V}
kind: VirtualService
metadata: { name: api, namespace: prod }
spec: { provider: { virtualNode: { virtualNodeRef: { name: api } } } }
---
${V}
kind: VirtualService
metadata: { name: legacy, namespace: prod }
spec:
  awsName: legacy.shop.local
  provider: { virtualNode: { virtualNodeARN: 'arn:aws:appmesh:us-east-1:111122223333:mesh/shop/virtualNode/legacy-node' } }
`);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(bodies(result), [
      { kind: 'Mesh', meshName: 'shop', spec: {} },
      { kind: 'VirtualNode', meshName: 'shop', virtualNodeName: 'api_prod', spec: { listeners: [{ portMapping: { port: 80, protocol: 'http' } }], serviceDiscovery: { dns: { hostname: 'api.prod' } } } },
      { kind: 'VirtualNode', meshName: 'shop', virtualNodeName: 'legacy-node', spec: {} },
      { kind: 'VirtualService', meshName: 'shop', virtualServiceName: 'api.prod', spec: { provider: { virtualNode: { virtualNodeName: 'api_prod' } } } },
      { kind: 'VirtualService', meshName: 'shop', virtualServiceName: 'legacy.shop.local', spec: { provider: { virtualNode: { virtualNodeName: 'legacy-node' } } } },
    ]);
    assert.deepEqual(result.notes, ['namespaceSelector dropped: the membership it decided is in each resource\'s meshName (or a gateway route\'s virtualGatewayName)']);
  });

  it('splits a router\'s routes into Route resources, expands backend groups and renames the ARN fields', () => {
    const result = mapped(`${V}
kind: Mesh
metadata: { name: shop }
spec: { namespaceSelector: { matchLabels: { mesh: shop } } }
---
apiVersion: v1
kind: Namespace
metadata: { name: prod, labels: { mesh: shop } }
---
${V}
kind: VirtualRouter
metadata: { name: r, namespace: prod }
spec:
  listeners: [{ portMapping: { port: 80, protocol: http } }]
  routes:
    - name: main
      priority: 1
      httpRoute:
        match: { prefix: / }
        action: { weightedTargets: [{ virtualNodeRef: { name: a }, weight: 1 }, { virtualNodeRef: { name: b, namespace: other }, weight: 1 }] }
---
${V}
kind: BackendGroup
metadata: { name: all, namespace: prod }
spec: { virtualservices: [{ name: s1 }, { name: s2, namespace: other }] }
---
${V}
kind: VirtualNode
metadata: { name: a, namespace: prod }
spec:
  podSelector: { matchLabels: { app: a } }
  backends: [{ virtualService: { virtualServiceRef: { name: s1 }, clientPolicy: { tls: { validation: { trust: { acm: { certificateAuthorityARNs: [x] } } } } } } }]
  backendGroups: [{ name: all }]
  listeners: [{ portMapping: { port: 80, protocol: http }, tls: { mode: STRICT, certificate: { acm: { certificateARN: c } } } }]
`);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(bodies(result).slice(1), [
      { kind: 'VirtualRouter', meshName: 'shop', virtualRouterName: 'r_prod', spec: { listeners: [{ portMapping: { port: 80, protocol: 'http' } }] } },
      { kind: 'Route', meshName: 'shop', virtualRouterName: 'r_prod', routeName: 'main', spec: { priority: 1, httpRoute: { match: { prefix: '/' }, action: { weightedTargets: [{ virtualNode: 'a_prod', weight: 1 }, { virtualNode: 'b_other', weight: 1 }] } } } },
      {
        kind: 'VirtualNode', meshName: 'shop', virtualNodeName: 'a_prod',
        spec: {
          listeners: [{ portMapping: { port: 80, protocol: 'http' }, tls: { mode: 'STRICT', certificate: { acm: { certificateArn: 'c' } } } }],
          backends: [
            { virtualService: { virtualServiceName: 's1.prod', clientPolicy: { tls: { validation: { trust: { acm: { certificateAuthorityArns: ['x'] } } } } } } },
            { virtualService: { virtualServiceName: 's2.other' } },
          ],
        },
      },
    ]);
    // Objects not among the inputs get the controller's default names, with a warning each.
    assert.deepEqual(result.warnings.map(formatError), [
      'in.yaml:10: VirtualRouter r: spec.routes[0].httpRoute.action.weightedTargets[1].virtualNodeRef: VirtualNode other/b is not among the inputs; assumed its default name b_other',
      'in.yaml:27: VirtualNode a: spec.backends[0].virtualService.virtualServiceRef: VirtualService prod/s1 is not among the inputs; assumed its default name s1.prod',
      'in.yaml:22: BackendGroup all: spec.virtualservices[0].virtualServiceRef: VirtualService prod/s1 is not among the inputs; assumed its default name s1.prod',
      'in.yaml:22: BackendGroup all: spec.virtualservices[1].virtualServiceRef: VirtualService other/s2 is not among the inputs; assumed its default name s2.other',
    ]);
  });

  it('ties gateway routes to their gateway by ref or selector, and drops unknown fields with a warning', () => {
    const result = mapped(`${V}
kind: Mesh
metadata: { name: shop }
spec: { namespaceSelector: {} }
---
${V}
kind: VirtualGateway
metadata: { name: gw, namespace: edge }
spec:
  gatewayRouteSelector: { matchLabels: { gateway: gw } }
  listeners: [{ portMapping: { port: 8080, protocol: http }, tsl: { mode: STRICT } }]
---
${V}
kind: GatewayRoute
metadata: { name: web, namespace: edge, labels: { gateway: gw } }
spec:
  httpRoute:
    match: { prefix: / }
    action: { target: { virtualService: { virtualServiceRef: { name: web, namespace: prod } } } }
---
${V}
kind: GatewayRoute
metadata: { name: orphan, namespace: edge }
spec:
  httpRoute: { match: { prefix: /o }, action: { target: { virtualService: { virtualServiceARN: 'arn:aws:appmesh:us-east-1:1:mesh/shop/virtualService/web.prod' } } } }
`);
    assert.deepEqual(bodies(result).slice(2), [
      { kind: 'GatewayRoute', meshName: 'shop', virtualGatewayName: 'gw_edge', gatewayRouteName: 'web_edge', spec: { httpRoute: { match: { prefix: '/' }, action: { target: { virtualService: { virtualServiceName: 'web.prod' } } } } } },
    ]);
    assert.deepEqual(result.errors.map(formatError), [
      'in.yaml:21: GatewayRoute orphan: spec.virtualGatewayRef: cannot tell its gateway: no VirtualGateway among the inputs selects it; set spec.virtualGatewayRef',
    ]);
    assert.ok(result.warnings.map(formatError).includes('in.yaml:6: VirtualGateway gw: spec.listeners[0].tsl: is not in the VirtualGateway CRD schema; dropped, as Kubernetes drops it (check its spelling and place)'));
  });

  it('says why it cannot place a resource in a mesh', () => {
    const result = mapped(`${V}
kind: Mesh
metadata: { name: a }
spec: { namespaceSelector: { matchLabels: { mesh: a } } }
---
${V}
kind: Mesh
metadata: { name: b }
spec: { namespaceSelector: { matchLabels: { mesh: b } } }
---
${V}
kind: VirtualService
metadata: { name: s, namespace: prod }
spec: {}
`);
    assert.deepEqual(result.errors.map(formatError), [
      'in.yaml:11: VirtualService s: spec.meshRef: cannot tell its mesh: namespace prod is not among the inputs (add its Namespace object, whose labels the meshes\' namespaceSelector match); or set spec.meshRef',
    ]);
  });

  it('matches label selectors as Kubernetes does', () => {
    const labels = { app: 'web', tier: 'front' };
    assert.equal(selectorMatches({}, labels), true);
    assert.equal(selectorMatches(undefined, labels), false);
    assert.equal(selectorMatches({ matchLabels: { app: 'web' } }, labels), true);
    assert.equal(selectorMatches({ matchLabels: { app: 'api' } }, labels), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] }, labels), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }, { key: 'app', operator: 'Exists' }] }, labels), true);
  });
});
