// Step 2 of building the model: the facts an endpoint owns (listeners with normalized TLS,
// service discovery, meshd settings), checked for port clashes. Other endpoints see a virtual
// node through these facts when it is one of their backends' targets.
import type { VirtualGatewayResource, VirtualNodeResource } from '../spec/resource-schema';
import { report, type ModelContext } from './context';
import { endpointKey, spiffeIdOf } from '../identity/endpoint-id';
import type { ResourceIndex } from './index-resources';
import { endpointIdentity } from './spiffe-identity';
import { listenerTlsFrom, type EndpointScope } from './tls';
import type { EndpointKind, ListenerModel, MeshdSettings, ServiceDiscoveryModel } from './types';

/** meshd defaults, as App Mesh's Envoy uses them. */
export const meshdDefaults: MeshdSettings = {
  ingressPort: 15000,
  egressPort: 15001,
  adminPort: 9901,
  address: '0.0.0.0',
  proxyless: false,
};

/** What an endpoint owns, before its backends are resolved. */
export interface EndpointFacts {
  readonly kind: EndpointKind;
  readonly id: string;
  readonly spiffeId: string;
  readonly listeners: readonly ListenerModel[];
  readonly serviceDiscovery?: ServiceDiscoveryModel;
  readonly meshd: MeshdSettings;
  readonly scope: EndpointScope;
}

type EndpointResource = VirtualNodeResource | VirtualGatewayResource;

function serviceDiscoveryOf(resource: VirtualNodeResource): ServiceDiscoveryModel | undefined {
  const discovery = resource.spec.serviceDiscovery;
  if (discovery?.dns) {
    return {
      kind: 'dns',
      hostname: discovery.dns.hostname,
      responseType: discovery.dns.responseType ?? 'LOADBALANCER',
      ...(discovery.dns.ipPreference ? { ipPreference: discovery.dns.ipPreference } : {}),
    };
  }
  if (discovery?.awsCloudMap) {
    const { namespaceName, serviceName, attributes, ipPreference } = discovery.awsCloudMap;
    return {
      kind: 'awsCloudMap', namespaceName, serviceName,
      attributes: (attributes ?? []).map((attribute) => ({ ...attribute })),
      ...(ipPreference ? { ipPreference } : {}),
      hostname: `${serviceName}.${namespaceName}`,
    };
  }
  return undefined;
}

function checkPorts(context: ModelContext, resource: EndpointResource, listeners: readonly ListenerModel[], meshd: MeshdSettings): void {
  const firstByPort = new Map<number, number>();
  listeners.forEach((listener, i) => {
    const first = firstByPort.get(listener.port);
    if (first !== undefined) {
      report(context, resource, `spec.listeners[${i}].portMapping.port`, `port ${listener.port} is already used by spec.listeners[${first}]`);
    } else {
      firstByPort.set(listener.port, i);
    }
  });
  if (meshd.proxyless) return;
  // The proxy's own ports must not clash with each other nor, on a virtual node, with the ports
  // of the local application it fronts.
  const proxyPorts = [['ingressPort', meshd.ingressPort], ['egressPort', meshd.egressPort], ['adminPort', meshd.adminPort]] as const;
  proxyPorts.forEach(([field, value], i) => {
    const clash = proxyPorts.slice(0, i).find(([, other]) => other === value);
    if (clash) {
      report(context, resource, `meshd.${field}`, `port ${value} is also the ${clash[0]}`);
      return;
    }
    const listener = resource.kind === 'VirtualNode' ? firstByPort.get(value) : undefined;
    if (listener !== undefined) {
      report(context, resource, `meshd.${field}`, `port ${value} is also the application port of spec.listeners[${listener}]`);
    }
  });
}

/** Build the facts of one virtual node or gateway; errors go to the context. */
export function endpointFacts(context: ModelContext, index: ResourceIndex, resource: EndpointResource): EndpointFacts {
  const kind: EndpointKind = resource.kind === 'VirtualNode' ? 'virtualNode' : 'virtualGateway';
  const name = resource.kind === 'VirtualNode' ? resource.virtualNodeName : resource.virtualGatewayName;
  const defaultSpiffeId = spiffeIdOf(context.trustDomain, { mesh: resource.meshName, kind, name });
  // SPIRE-style specs assign the endpoint its SPIFFE ID through a certificate name.
  const identity = endpointIdentity(context.trustDomain, resource, defaultSpiffeId);
  const { spiffeId } = identity;
  const scope: EndpointScope = { context, index, resource, meshName: resource.meshName, ...identity, defaultSpiffeId, sdsSecrets: new Map() };
  const listeners: ListenerModel[] = (resource.spec.listeners ?? []).map((listener, i) => {
    const { portMapping, tls, ...rest } = listener;
    return {
      port: portMapping.port,
      protocol: portMapping.protocol,
      ...(tls ? { tls: listenerTlsFrom(scope, tls, `spec.listeners[${i}].tls`) } : {}),
      ...rest,
    };
  });
  const meshd: MeshdSettings = { ...meshdDefaults, ...(resource.meshd ?? {}) };
  checkPorts(context, resource, listeners, meshd);
  const serviceDiscovery = resource.kind === 'VirtualNode' ? serviceDiscoveryOf(resource) : undefined;
  return {
    kind,
    id: endpointKey(resource.meshName, kind, name),
    spiffeId,
    listeners,
    ...(serviceDiscovery ? { serviceDiscovery } : {}),
    meshd,
    scope,
  };
}
