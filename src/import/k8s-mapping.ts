// `meshd import k8s`: the App Mesh controller's resources mapped the way the controller mapped them
// to App Mesh: default names (`<name>_<namespace>`, `<name>.<namespace>` for virtual services,
// unless `awsName` is set), references and ARNs turned into names, a VirtualRouter's routes as Route
// resources, each GatewayRoute tied to its gateway, mesh membership from `meshRef` or the meshes'
// namespace selectors, BackendGroups expanded into backends. Selectors only place pods, so they
// are dropped with a note; fields the CRD schema lacks are dropped with a warning.
import type { SpecError } from '../spec/errors';
import { nameFromAppMeshArn } from './cfn-kinds';
import type { ImportResult, ImportedResource } from './imported';
import { specShapes, pruneToShape } from './k8s-schema';
import type { K8sObject, Manifests } from './k8s-manifests';
import { isSourceMap, type SourceMap, type SourceValue } from './yaml-source';

/** Does a Kubernetes label selector (matchLabels, matchExpressions) select these labels? */
export function selectorMatches(selector: SourceValue | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!isSourceMap(selector)) return false;
  const matchLabels = isSourceMap(selector.matchLabels) ? selector.matchLabels : {};
  if (!Object.entries(matchLabels).every(([key, value]) => labels[key] === String(value))) return false;
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  return expressions.every((expression) => {
    if (!isSourceMap(expression)) return false;
    const key = String(expression.key);
    const values = Array.isArray(expression.values) ? expression.values.map(String) : [];
    switch (expression.operator) {
      case 'In': return labels[key] !== undefined && values.includes(labels[key]!);
      case 'NotIn': return labels[key] === undefined || !values.includes(labels[key]!);
      case 'Exists': return labels[key] !== undefined;
      case 'DoesNotExist': return labels[key] === undefined;
      default: return false;
    }
  });
}

class MappingError extends Error {
  constructor(message: string, readonly path: string) {
    super(message);
  }
}

// The API's spelling of the CRD's ARN fields.
const renamedFields: Readonly<Record<string, string>> = { certificateARN: 'certificateArn', certificateAuthorityARNs: 'certificateAuthorityArns' };

function renameFields(value: SourceValue): SourceValue {
  if (Array.isArray(value)) return value.map(renameFields);
  if (!isSourceMap(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, child]) => [renamedFields[key] ?? key, renameFields(child)]));
}

// Why each selector can go: what it decided is in the imported resources, or is the proxy's to say.
const selectorNotes: Readonly<Record<string, string>> = {
  podSelector: 'it put pods in a virtual node or gateway; with meshd each proxy names its endpoint in its node id (meshd bootstrap --node)',
  namespaceSelector: 'the membership it decided is in each resource\'s meshName (or a gateway route\'s virtualGatewayName)',
  gatewayRouteSelector: 'the gateway it chose is in each gateway route\'s virtualGatewayName',
  meshOwner: 'meshd has no accounts; the mesh is local',
};

function without(map: SourceMap, ...keys: string[]): SourceMap {
  return Object.fromEntries(Object.entries(map).filter(([key]) => !keys.includes(key)));
}

/** Maps the objects of some manifests; one instance per import. */
class K8sMapper {
  readonly errors: SpecError[] = [];
  readonly warnings: SpecError[] = [];
  readonly notes = new Set<string>();
  private readonly byKey = new Map<string, K8sObject>();

  constructor(private readonly manifests: Manifests) {
    for (const object of manifests.objects) this.byKey.set(`${object.kind}/${object.namespace}/${object.name}`, object);
  }

  private find(kind: string, namespace: string, name: string): K8sObject | undefined {
    return this.byKey.get(`${kind}/${kind === 'Mesh' ? '' : namespace}/${name}`);
  }

  /** The App Mesh name the controller gives an object. */
  awsNameOf(object: K8sObject): string {
    if (typeof object.spec.awsName === 'string' && object.spec.awsName !== '') return object.spec.awsName;
    if (object.kind === 'Mesh') return object.name;
    return object.kind === 'VirtualService' ? `${object.name}.${object.namespace}` : `${object.name}_${object.namespace}`;
  }

  /** The name behind a `*Ref` (the referenced object's App Mesh name) or a `*ARN`. */
  private referenced(kind: string, container: SourceMap, refField: string, arnField: string, from: K8sObject, path: string): string {
    const arn = container[arnField];
    if (typeof arn === 'string') {
      const name = nameFromAppMeshArn(arn);
      if (name === undefined) throw new MappingError(`${arnField} ${arn} is not an App Mesh ARN`, `${path}.${arnField}`);
      return name;
    }
    const ref = container[refField];
    if (!isSourceMap(ref) || typeof ref.name !== 'string') throw new MappingError(`needs ${refField} or ${arnField}`, path);
    const namespace = typeof ref.namespace === 'string' ? ref.namespace : from.namespace;
    const target = this.find(kind, namespace, ref.name);
    if (target) return this.awsNameOf(target);
    // Not among the inputs: the controller's default name is the best guess; validation says if it is wrong.
    const assumed = kind === 'VirtualService' ? `${ref.name}.${namespace}` : `${ref.name}_${namespace}`;
    this.warnings.push({ file: from.file, line: from.line, resource: `${from.kind} ${from.name}`, path: `${path}.${refField}`, message: `${kind} ${namespace}/${ref.name} is not among the inputs; assumed its default name ${assumed}` });
    return assumed;
  }

  /** The mesh of an object: `meshRef`, else the mesh whose namespaceSelector selects its namespace. */
  private meshOf(object: K8sObject): string {
    const meshRef = object.spec.meshRef;
    if (isSourceMap(meshRef) && typeof meshRef.name === 'string') {
      const mesh = this.find('Mesh', '', meshRef.name);
      return mesh ? this.awsNameOf(mesh) : meshRef.name;
    }
    const meshes = this.manifests.objects.filter((candidate) => candidate.kind === 'Mesh');
    const labels = this.manifests.namespaceLabels.get(object.namespace);
    const selecting = labels === undefined
      ? meshes.filter((mesh) => isSourceMap(mesh.spec.namespaceSelector) && Object.keys(mesh.spec.namespaceSelector).length === 0)
      : meshes.filter((mesh) => selectorMatches(mesh.spec.namespaceSelector, labels));
    if (selecting.length === 1) return this.awsNameOf(selecting[0]!);
    if (selecting.length === 0 && labels === undefined && meshes.length === 1) {
      this.notes.add(`namespace ${object.namespace} is not among the inputs: its resources are placed in the only mesh, ${this.awsNameOf(meshes[0]!)}`);
      return this.awsNameOf(meshes[0]!);
    }
    const why = selecting.length > 1
      ? `the namespace selectors of several meshes (${selecting.map((mesh) => mesh.name).join(', ')}) select namespace ${object.namespace}`
      : labels === undefined ? `namespace ${object.namespace} is not among the inputs (add its Namespace object, whose labels the meshes' namespaceSelector match)` : `no mesh's namespaceSelector selects namespace ${object.namespace}`;
    throw new MappingError(`cannot tell its mesh: ${why}; or set spec.meshRef`, 'spec.meshRef');
  }

  private dropSelectors(spec: SourceMap, ...selectors: string[]): SourceMap {
    for (const selector of selectors) {
      if (spec[selector] !== undefined) this.notes.add(`${selector} dropped: ${selectorNotes[selector] ?? 'meshd has no use for it'}`);
    }
    return without(spec, 'awsName', 'meshRef', ...selectors);
  }

  private weightedTargets(route: SourceMap, object: K8sObject, path: string): SourceMap {
    const out: SourceMap = {};
    for (const [key, value] of Object.entries(route)) {
      if (!isSourceMap(value) || !['httpRoute', 'http2Route', 'grpcRoute', 'tcpRoute'].includes(key)) {
        out[key] = value;
        continue;
      }
      const action = isSourceMap(value.action) ? value.action : {};
      const targets = Array.isArray(action.weightedTargets) ? action.weightedTargets : [];
      out[key] = {
        ...value,
        action: {
          ...action,
          weightedTargets: targets.map((target, index) => {
            const at = `${path}.${key}.action.weightedTargets[${index}]`;
            const entry = isSourceMap(target) ? target : {};
            return { virtualNode: this.referenced('VirtualNode', entry, 'virtualNodeRef', 'virtualNodeARN', object, at), ...without(entry, 'virtualNodeRef', 'virtualNodeARN') };
          }),
        },
      };
    }
    return out;
  }

  private gatewayTargets(spec: SourceMap, object: K8sObject): SourceMap {
    const out: SourceMap = {};
    for (const [key, value] of Object.entries(spec)) {
      const action = isSourceMap(value) && isSourceMap(value.action) ? value.action : undefined;
      const target = action && isSourceMap(action.target) ? action.target : undefined;
      const service = target && isSourceMap(target.virtualService) ? target.virtualService : undefined;
      if (!isSourceMap(value) || !action || !target || !service) {
        out[key] = value;
        continue;
      }
      const virtualServiceName = this.referenced('VirtualService', service, 'virtualServiceRef', 'virtualServiceARN', object, `spec.${key}.action.target.virtualService`);
      out[key] = { ...value, action: { ...action, target: { ...target, virtualService: { virtualServiceName } } } };
    }
    return out;
  }

  private backends(spec: SourceMap, object: K8sObject): SourceValue[] {
    const backends: SourceValue[] = [];
    const seen = new Set<string>();
    const add = (virtualServiceName: string, rest: SourceMap): void => {
      if (seen.has(virtualServiceName)) return;
      seen.add(virtualServiceName);
      backends.push({ virtualService: { virtualServiceName, ...rest } });
    };
    (Array.isArray(spec.backends) ? spec.backends : []).forEach((backend, index) => {
      const service = isSourceMap(backend) && isSourceMap(backend.virtualService) ? backend.virtualService : {};
      add(this.referenced('VirtualService', service, 'virtualServiceRef', 'virtualServiceARN', object, `spec.backends[${index}].virtualService`), without(service, 'virtualServiceRef', 'virtualServiceARN'));
    });
    (Array.isArray(spec.backendGroups) ? spec.backendGroups : []).forEach((group, index) => {
      const ref = isSourceMap(group) ? group : {};
      const namespace = typeof ref.namespace === 'string' ? ref.namespace : object.namespace;
      const found = this.find('BackendGroup', namespace, String(ref.name));
      if (!found) throw new MappingError(`BackendGroup ${namespace}/${String(ref.name)} is not among the inputs`, `spec.backendGroups[${index}]`);
      (Array.isArray(found.spec.virtualservices) ? found.spec.virtualservices : []).forEach((service, serviceIndex) => {
        const container: SourceMap = { virtualServiceRef: isSourceMap(service) ? service : {} };
        add(this.referenced('VirtualService', container, 'virtualServiceRef', 'virtualServiceARN', found, `spec.virtualservices[${serviceIndex}]`), {});
      });
    });
    return backends;
  }

  /** The meshd resources of one controller object (a VirtualRouter gives its Routes too). */
  map(object: K8sObject): ImportedResource[] {
    const origin = `${object.file}:${object.line}: ${object.kind} ${object.namespace ? `${object.namespace}/` : ''}${object.name}`;
    const spec = renameFields(pruneToShape(object.spec, specShapes[object.kind]!, 'spec', (path) => {
      this.warnings.push({ file: object.file, line: object.line, resource: `${object.kind} ${object.name}`, path, message: `is not in the ${object.kind} CRD schema; dropped, as Kubernetes drops it (check its spelling and place)` });
    })) as SourceMap;
    const name = this.awsNameOf(object);
    switch (object.kind) {
      case 'Mesh':
        return [{ kind: 'Mesh', body: { kind: 'Mesh', meshName: name, spec: this.dropSelectors(spec, 'namespaceSelector', 'meshOwner') }, origin }];
      case 'VirtualNode': {
        const rest = this.dropSelectors(without(spec, 'backends', 'backendGroups'), 'podSelector');
        const backends = this.backends(spec, object);
        return [{ kind: 'VirtualNode', body: { kind: 'VirtualNode', meshName: this.meshOf(object), virtualNodeName: name, spec: { ...rest, ...(backends.length > 0 ? { backends } : {}) } }, origin }];
      }
      case 'VirtualService': {
        const provider = isSourceMap(spec.provider) ? spec.provider : undefined;
        const mapped: SourceMap = {};
        if (provider && isSourceMap(provider.virtualNode)) mapped.virtualNode = { virtualNodeName: this.referenced('VirtualNode', provider.virtualNode, 'virtualNodeRef', 'virtualNodeARN', object, 'spec.provider.virtualNode') };
        if (provider && isSourceMap(provider.virtualRouter)) mapped.virtualRouter = { virtualRouterName: this.referenced('VirtualRouter', provider.virtualRouter, 'virtualRouterRef', 'virtualRouterARN', object, 'spec.provider.virtualRouter') };
        return [{ kind: 'VirtualService', body: { kind: 'VirtualService', meshName: this.meshOf(object), virtualServiceName: name, spec: provider ? { provider: mapped } : {} }, origin }];
      }
      case 'VirtualRouter': {
        const meshName = this.meshOf(object);
        const routes = (Array.isArray(spec.routes) ? spec.routes : []).map((route, index): ImportedResource => {
          const entry = isSourceMap(route) ? route : {};
          if (typeof entry.name !== 'string') throw new MappingError('needs a name', `spec.routes[${index}].name`);
          return { kind: 'Route', body: { kind: 'Route', meshName, virtualRouterName: name, routeName: entry.name, spec: this.weightedTargets(without(entry, 'name'), object, `spec.routes[${index}]`) }, origin };
        });
        return [{ kind: 'VirtualRouter', body: { kind: 'VirtualRouter', meshName, virtualRouterName: name, spec: without(spec, 'awsName', 'meshRef', 'routes') }, origin }, ...routes];
      }
      case 'VirtualGateway':
        return [{ kind: 'VirtualGateway', body: { kind: 'VirtualGateway', meshName: this.meshOf(object), virtualGatewayName: name, spec: this.dropSelectors(spec, 'namespaceSelector', 'podSelector', 'gatewayRouteSelector') }, origin }];
      case 'GatewayRoute': {
        const gateway = this.gatewayOf(object, spec);
        return [{ kind: 'GatewayRoute', body: { kind: 'GatewayRoute', meshName: this.meshOf(object), virtualGatewayName: gateway, gatewayRouteName: name, spec: this.gatewayTargets(without(spec, 'awsName', 'meshRef', 'virtualGatewayRef'), object) }, origin }];
      }
      case 'BackendGroup':
        return [];
    }
  }

  /** A GatewayRoute's gateway: `virtualGatewayRef`, else the gateway whose selectors select it. */
  private gatewayOf(object: K8sObject, spec: SourceMap): string {
    if (isSourceMap(spec.virtualGatewayRef)) return this.referenced('VirtualGateway', spec, 'virtualGatewayRef', 'virtualGatewayARN', object, 'spec');
    const namespaceLabels = this.manifests.namespaceLabels.get(object.namespace);
    const gateways = this.manifests.objects.filter((gateway) => gateway.kind === 'VirtualGateway'
      && (gateway.spec.namespaceSelector === undefined ? gateway.namespace === object.namespace : namespaceLabels !== undefined && selectorMatches(gateway.spec.namespaceSelector, namespaceLabels))
      && (gateway.spec.gatewayRouteSelector === undefined || selectorMatches(gateway.spec.gatewayRouteSelector, object.labels)));
    if (gateways.length === 1) return this.awsNameOf(gateways[0]!);
    throw new MappingError(`cannot tell its gateway: ${gateways.length === 0 ? 'no VirtualGateway among the inputs selects it' : `several select it (${gateways.map((gateway) => gateway.name).join(', ')})`}; set spec.virtualGatewayRef`, 'spec.virtualGatewayRef');
  }
}

/** Map the controller's objects to meshd resources. */
export function mapManifests(manifests: Manifests): ImportResult {
  const mapper = new K8sMapper(manifests);
  const resources: ImportedResource[] = [];
  const errors: SpecError[] = [...manifests.errors];
  for (const object of manifests.objects) {
    try {
      resources.push(...mapper.map(object));
    } catch (error) {
      if (!(error instanceof MappingError)) throw error;
      errors.push({ file: object.file, line: object.line, resource: `${object.kind} ${object.name}`, path: error.path, message: error.message });
    }
  }
  const otherCount = [...manifests.others.values()].reduce((sum, count) => sum + count, 0);
  const skipped = otherCount > 0
    ? [`${otherCount} other Kubernetes object${otherCount === 1 ? '' : 's'} (${[...manifests.others.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([kind, count]) => (count > 1 ? `${kind} ×${count}` : kind)).join(', ')})`]
    : [];
  return { resources, errors, warnings: [...manifests.warnings, ...mapper.warnings], skipped, notes: [...mapper.notes].sort() };
}
