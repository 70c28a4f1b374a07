// The validated mesh model: immutable data describing, per mesh endpoint (virtual node or
// virtual gateway), everything translation to Envoy config needs, already resolved and with
// defaults applied. Plain frozen objects (no classes, no Maps) so models diff and serialize.
import type { Duration, HeaderMatch, Protocol } from '../spec/common-schema';
import type { TlsMode } from '../spec/tls-schema';
import type {
  GrpcGatewayRouteSpec, GrpcRouteSpec, HttpGatewayRouteSpec, HttpRouteSpec, TcpRouteSpec,
} from '../spec/route-schema';
import type { VirtualNodeSpec } from '../spec/endpoint-schema';
import type { ResourceSource } from '../spec/resource-schema';
import type { SpecError } from '../spec/errors';
import type { EndpointKind } from '../identity/endpoint-id';

export type { Duration, HeaderMatch, Protocol, TlsMode };

/** The two kinds of endpoint a proxy can be (defined with endpoint identity). */
export type { EndpointKind };

/** The match of an HTTP route or gateway route, as validated (what the Envoy builders read). */
export type HttpRouteMatch = HttpRouteSpec['match'] | HttpGatewayRouteSpec['match'];
/** The match of a gRPC route or gateway route, as validated. */
export type GrpcRouteMatch = GrpcRouteSpec['match'] | GrpcGatewayRouteSpec['match'];
/** An HTTP or gRPC route's retry policy, as validated. */
export type RetryPolicyModel = NonNullable<HttpRouteSpec['retryPolicy'] | GrpcRouteSpec['retryPolicy']>;

/** What an SDS secret name resolves to in meshd's SDS. */
export type SdsProvision =
  /** The asking endpoint's own leaf certificate, issued by meshd's CA. */
  | { readonly kind: 'endpoint-certificate' }
  /** meshd's CA trust bundle. */
  | { readonly kind: 'ca-bundle' }
  /** A `Secret` resource: certificate chain and key files watched by meshd. */
  | { readonly kind: 'file-certificate'; readonly certificateChain: string; readonly privateKey: string }
  /** A `Secret` resource: a trusted CA file watched by meshd. */
  | { readonly kind: 'file-trust'; readonly trustedCa: string };

/** An endpoint's own certificate, normalized. */
export type CertificateSource =
  /** Paths on the proxy's file system (Envoy reads them itself). */
  | { readonly kind: 'file'; readonly certificateChain: string; readonly privateKey: string; readonly issuedByMeshCa: false }
  /** A secret name served by meshd's SDS; `issuedByMeshCa` when it is the endpoint's meshd-issued leaf. */
  | { readonly kind: 'sds'; readonly secretName: string; readonly provision: SdsProvision; readonly issuedByMeshCa: boolean }
  /** An ACM ARN: meshd issues the certificate from its CA and serves it as `secretName` (the SPIFFE ID). */
  | { readonly kind: 'acm'; readonly certificateArn: string; readonly secretName: string; readonly provision: SdsProvision; readonly issuedByMeshCa: true };

/** Where trust for validating a peer comes from, normalized. */
export type TrustSource =
  | { readonly kind: 'file'; readonly certificateChain: string }
  | { readonly kind: 'sds'; readonly secretName: string; readonly provision: SdsProvision }
  /** ACM CAs: served as meshd's bundle under `secretName` (`spiffe://<trustDomain>`). */
  | { readonly kind: 'acm'; readonly certificateAuthorityArns: readonly string[]; readonly secretName: string; readonly provision: SdsProvision };

/** Peer validation: trust and, when given, the SANs to accept. */
export interface ValidationModel {
  readonly trust: TrustSource;
  /** Exact SANs to accept; absent means "not given" (see 003 for what that implies on each side). */
  readonly subjectAlternativeNames?: readonly string[];
}

/** Listener TLS termination. `validation` present means mutual TLS (client certificates required). */
export interface ListenerTlsModel {
  readonly mode: TlsMode;
  readonly certificate: CertificateSource;
  readonly validation?: ValidationModel;
}

/** One listener of an endpoint. For a virtual node, `port` is the local application's port. */
export interface ListenerModel {
  readonly port: number;
  readonly protocol: Protocol;
  readonly tls?: ListenerTlsModel;
  readonly healthCheck?: NonNullable<VirtualNodeSpec['listeners']>[number]['healthCheck'];
  readonly timeout?: NonNullable<VirtualNodeSpec['listeners']>[number]['timeout'];
  readonly connectionPool?: NonNullable<VirtualNodeSpec['listeners']>[number]['connectionPool'];
  readonly outlierDetection?: NonNullable<VirtualNodeSpec['listeners']>[number]['outlierDetection'];
}

/** A TLS client policy with App Mesh defaults applied. */
export interface ClientPolicyModel {
  /** Default true when the tls block is present. */
  readonly enforce: boolean;
  /** Ports the policy applies to; empty means every port. */
  readonly ports: readonly number[];
  /** The client's own certificate, for mutual TLS. */
  readonly certificate?: CertificateSource;
  readonly validation: ValidationModel;
}

/** Service discovery with the name a server certificate must match (003 "Certificate requirements"). */
export type ServiceDiscoveryModel =
  | {
    readonly kind: 'dns'; readonly hostname: string;
    readonly responseType: 'LOADBALANCER' | 'ENDPOINTS';
    readonly ipPreference?: string;
  }
  | {
    readonly kind: 'awsCloudMap'; readonly namespaceName: string; readonly serviceName: string;
    readonly attributes: readonly { readonly key: string; readonly value: string }[];
    readonly ipPreference?: string;
    /** `serviceName.namespaceName`. */
    readonly hostname: string;
  };

/** meshd's local-run settings, defaults applied. */
export interface MeshdSettings {
  /** Envoy ingress listener port (default 15000). */
  readonly ingressPort: number;
  /** Envoy egress listener port (default 15001). */
  readonly egressPort: number;
  /** Envoy admin port (default 9901). */
  readonly adminPort: number;
  /** Address the listeners bind (default 0.0.0.0). */
  readonly address: string;
  /** A gRPC service using xDS directly, without Envoy (virtual nodes only). */
  readonly proxyless: boolean;
}

/** A virtual node reached through a backend: what a client needs to talk to it. */
export interface TargetNodeModel {
  readonly id: string;
  readonly name: string;
  readonly spiffeId: string;
  readonly serviceDiscovery?: ServiceDiscoveryModel;
  readonly listeners: readonly ListenerModel[];
  readonly meshd: MeshdSettings;
}

/** A weighted target of a route, resolved. */
export interface WeightedTargetModel {
  readonly virtualNode: string;
  readonly nodeId: string;
  readonly weight: number;
  readonly port?: number;
}

interface RouteBase {
  readonly name: string;
  readonly priority?: number;
  readonly weightedTargets: readonly WeightedTargetModel[];
}

/** A route of a virtual router, by protocol, with its App Mesh match/retry/timeout as given. */
export type RouteModel =
  | (RouteBase & { readonly protocol: 'http' | 'http2'; readonly spec: HttpRouteSpec })
  | (RouteBase & { readonly protocol: 'grpc'; readonly spec: GrpcRouteSpec })
  | (RouteBase & { readonly protocol: 'tcp'; readonly spec: TcpRouteSpec });

/** Who provides a virtual service. */
export type ProviderModel =
  | { readonly kind: 'virtualNode'; readonly virtualNodeName: string }
  | {
    readonly kind: 'virtualRouter'; readonly virtualRouterName: string;
    readonly listeners: readonly { readonly port: number; readonly protocol: Protocol }[];
    /** In priority order (lowest number first, unprioritized last), then by name. */
    readonly routes: readonly RouteModel[];
  }
  | { readonly kind: 'none' };

/** A backend of an endpoint: a virtual service resolved to the nodes that serve it. */
export interface BackendModel {
  readonly virtualServiceName: string;
  readonly provider: ProviderModel;
  /** Every virtual node the service can send to, sorted by name. */
  readonly targets: readonly TargetNodeModel[];
  /** The effective client policy: the backend's own, else backendDefaults, else none. */
  readonly clientPolicy?: ClientPolicyModel;
  readonly clientPolicySource: 'backend' | 'defaults' | 'none';
}

/** A gateway route, by protocol, with its App Mesh match and rewrite as given. */
export type GatewayRouteModel =
  | { readonly name: string; readonly priority?: number; readonly protocol: 'http' | 'http2'; readonly spec: HttpGatewayRouteSpec; readonly virtualServiceName: string }
  | { readonly name: string; readonly priority?: number; readonly protocol: 'grpc'; readonly spec: GrpcGatewayRouteSpec; readonly virtualServiceName: string };

/** An SDS secret an endpoint's proxy may ask for, and what serves it. */
export interface SdsSecretUse {
  readonly secretName: string;
  readonly provision: SdsProvision;
}

/** One mesh endpoint: everything translating its proxy's configuration depends on. */
export interface EndpointModel {
  /** `mesh/<mesh>/virtualNode/<name>` or `mesh/<mesh>/virtualGateway/<name>` (the Envoy node id). */
  readonly id: string;
  readonly kind: EndpointKind;
  readonly meshName: string;
  readonly name: string;
  /**
   * The identity in its certificate: `spiffe://<trustDomain>/mesh/<mesh>/<kind>/<name>`, or the
   * SPIFFE ID its spec assigns by naming it as a certificate (SPIRE style).
   */
  readonly spiffeId: string;
  readonly trustDomain: string;
  /** The mesh's egress filter (App Mesh default DROP_ALL). */
  readonly egressFilter: 'ALLOW_ALL' | 'DROP_ALL';
  readonly listeners: readonly ListenerModel[];
  /** Virtual nodes only. */
  readonly serviceDiscovery?: ServiceDiscoveryModel;
  /** Backends, sorted by virtual service name (gateways: the services their routes target). */
  readonly backends: readonly BackendModel[];
  readonly backendDefaults?: ClientPolicyModel;
  /** Virtual gateways only; in priority order then by name. */
  readonly gatewayRoutes: readonly GatewayRouteModel[];
  readonly accessLogPath?: string;
  readonly meshd: MeshdSettings;
  /** Every SDS secret name its configuration uses, sorted: the names its proxy may be served. */
  readonly sdsSecrets: readonly SdsSecretUse[];
  /** Where it was declared (not part of the hash). */
  readonly source: ResourceSource;
  /** sha256 of everything above except `source`: equal hashes mean equal translation input. */
  readonly hash: string;
}

/** A meshd `Secret` resource. */
export interface SecretModel {
  readonly meshName: string;
  readonly secretName: string;
  readonly provision: Extract<SdsProvision, { kind: 'file-certificate' | 'file-trust' }>;
  readonly source: ResourceSource;
}

/** The whole validated mesh (one or more meshes). */
export interface MeshModel {
  readonly trustDomain: string;
  /** Mesh names. */
  readonly meshes: readonly string[];
  /** By endpoint id. */
  readonly endpoints: Readonly<Record<string, EndpointModel>>;
  /** By `<mesh>/<secretName>`. */
  readonly secrets: Readonly<Record<string, SecretModel>>;
  /** What meshd accepted but cannot honour (file, resource, field, why); they do not refuse the mesh. */
  readonly warnings: readonly SpecError[];
}
