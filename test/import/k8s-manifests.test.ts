import { strict as assert } from 'node:assert';
import { readManifests } from '../../src/import/k8s-manifests';
import { formatError } from '../../src/spec/errors';

describe('import: reading App Mesh controller manifests', () => {
  it('reads documents and kubectl lists, keeps namespace labels and counts other objects', () => {
    const manifests = readManifests([{ name: 'a.yaml', text: `apiVersion: v1
kind: Namespace
metadata: { name: shop, labels: { mesh: shop } }
---
apiVersion: v1
kind: List
items:
  - { apiVersion: appmesh.k8s.aws/v1beta2, kind: Mesh, metadata: { name: shop }, spec: {} }
  - { apiVersion: apps/v1, kind: Deployment, metadata: { name: web } }
  - { apiVersion: v1, kind: Service, metadata: { name: web } }
` }], 1000);
    assert.deepEqual(manifests.errors, []);
    assert.deepEqual(manifests.objects.map((object) => [object.kind, object.name, object.namespace, object.file, object.line]), [['Mesh', 'shop', '', 'a.yaml', 5]]);
    assert.deepEqual([...manifests.namespaceLabels], [['shop', { mesh: 'shop' }]]);
    assert.deepEqual([...manifests.others], [['Deployment', 1], ['Service', 1]]);
  });

  it('reports template leftovers of App Mesh objects with file and line, and ignores those of other objects', () => {
    const manifests = readManifests([{ name: 'node.yaml', text: `apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: { name: api, namespace: shop }
spec:
  serviceDiscovery:
    dns:
      hostname: \${API_HOST}
  listeners:
    - portMapping: { port: 8080, protocol: http }
      tls:
        mode: STRICT
        certificate:
          acm:
            certificateARN: "{{ .Values.certificateArn }}"
  backends:
    - virtualService: { virtualServiceARN: <your-service-arn> }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  image: \${IMAGE}
` }], 1000);
    assert.deepEqual(manifests.errors.map(formatError), [
      'node.yaml:7: VirtualNode api: spec.serviceDiscovery.dns.hostname: "${API_HOST}" is a ${VAR} left by an unfilled template (envsubst, CloudFormation-style); fill it in before importing',
      'node.yaml:14: VirtualNode api: spec.listeners[0].tls.certificate.acm.certificateARN: "{{ .Values.certificateArn }}" is a {{ }} left by an unfilled template (Helm, Go templates); fill it in before importing',
      'node.yaml:16: VirtualNode api: spec.backends[0].virtualService.virtualServiceARN: "<your-service-arn>" is a <placeholder> meant to be replaced; fill it in before importing',
    ]);
  });

  it('refuses other API versions and nameless objects, and warns about a missing namespace', () => {
    const manifests = readManifests([{ name: 'old.yaml', text: `apiVersion: appmesh.k8s.aws/v1beta1
kind: VirtualNode
metadata: { name: old }
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualService
metadata: {}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualService
metadata: { name: svc }
` }], 1000);
    assert.deepEqual(manifests.errors.map(formatError), [
      'old.yaml:1: VirtualNode old: apiVersion: is appmesh.k8s.aws/v1beta1; only appmesh.k8s.aws/v1beta2 is imported (upgrade the controller\'s resources first)',
      'old.yaml:5: VirtualService: metadata.name: is required',
    ]);
    assert.deepEqual(manifests.warnings.map(formatError), ['old.yaml:9: VirtualService svc: metadata.namespace: is not set; taken as "default" (kubectl would use the current context\'s namespace)']);
  });
});
