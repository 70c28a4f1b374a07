// Realistic, valid Envoy v3 resources (plain objects in protobufjs fromObject form) as meshd's
// translation produces them: an EDS cluster with SDS-fed upstream TLS, a listener terminating
// mutual TLS in front of an HTTP connection manager on RDS over ADS, and the route, endpoint and
// secret resources they reference. Tests break one field at a time and expect exactly that path.
import { pemBlock, PKCS8_LABEL } from '../../support/pem';

export const TYPE = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  upstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  downstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  tlsInspector: 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
} as const;

/** HCM's typed_config path segment inside the first filter of the first filter chain. */
export const HCM_PATH = 'filter_chains[0].filters[0].typed_config<envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager>';

/** A plain protobufjs object tree. */
export type Plain = Record<string, unknown>;

const ads = (): Plain => ({ ads: {}, resourceApiVersion: 'V3' });

/** SDS over meshd's Unix-socket SDS cluster. */
function sdsSecret(name: string): Plain {
  return {
    name,
    sdsConfig: {
      apiConfigSource: { apiType: 'GRPC', transportApiVersion: 'V3', grpcServices: [{ envoyGrpc: { clusterName: 'meshd_sds' } }] },
      resourceApiVersion: 'V3',
    },
  };
}

/** An egress cluster: EDS over ADS, mutual TLS with certificate and trust from SDS. */
export function edsCluster(name = 'cds_egress_colors_front_http_8080'): Plain {
  return {
    name,
    type: 'EDS',
    edsClusterConfig: { edsConfig: ads(), serviceName: name },
    connectTimeout: { seconds: 1, nanos: 500_000_000 },
    lbPolicy: 'ROUND_ROBIN',
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': TYPE.upstreamTls,
        sni: 'color.colors.local',
        commonTlsContext: {
          tlsCertificateSdsSecretConfigs: [sdsSecret('acm:front')],
          validationContextSdsSecretConfig: sdsSecret('acm:trust'),
        },
      },
    },
  };
}

/** An ingress listener: mutual TLS (client certificates required, typed SAN matchers) into HCM. */
export function tlsListener(): Plain {
  return {
    name: 'lds_ingress_0.0.0.0_15000',
    address: { socketAddress: { address: '0.0.0.0', portValue: 15000 } },
    listenerFilters: [{ name: 'envoy.filters.listener.tls_inspector', typedConfig: { '@type': TYPE.tlsInspector } }],
    filterChains: [{
      filterChainMatch: { transportProtocol: 'tls' },
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typedConfig: {
          '@type': TYPE.hcm,
          statPrefix: '0.0.0.0_15000',
          codecType: 'AUTO',
          rds: { configSource: ads(), routeConfigName: 'rds_ingress_http_8080' },
          httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': TYPE.router } }],
        },
      }],
      transportSocket: {
        name: 'envoy.transport_sockets.tls',
        typedConfig: {
          '@type': TYPE.downstreamTls,
          requireClientCertificate: { value: true },
          commonTlsContext: {
            tlsCertificateSdsSecretConfigs: [sdsSecret('acm:color')],
            combinedValidationContext: {
              defaultValidationContext: {
                matchTypedSubjectAltNames: [{ sanType: 'URI', matcher: { exact: 'spiffe://colors/front' } }],
              },
              validationContextSdsSecretConfig: sdsSecret('acm:trust'),
            },
          },
        },
      },
    }],
  };
}

/** Routes shifting traffic between two versions of a backend. */
export function weightedRoutes(): Plain {
  return {
    name: 'rds_egress_http_8080',
    virtualHosts: [{
      name: 'color.colors.local',
      domains: ['color.colors.local', 'color.colors.local:8080'],
      routes: [{
        match: { prefix: '/' },
        route: {
          weightedClusters: {
            clusters: [
              { name: 'cds_egress_colors_blue_http_8080', weight: { value: 90 } },
              { name: 'cds_egress_colors_green_http_8080', weight: { value: 10 } },
            ],
          },
          timeout: { seconds: 15 },
        },
      }],
    }],
  };
}

/** Two loopback endpoints in one locality. */
export function loadAssignment(): Plain {
  const endpoint = (port: number): Plain => ({
    endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } },
    healthStatus: 'HEALTHY',
    loadBalancingWeight: { value: 1 },
  });
  return {
    clusterName: 'cds_egress_colors_front_http_8080',
    endpoints: [{ locality: { zone: 'local' }, lbEndpoints: [endpoint(9080), endpoint(9081)] }],
  };
}

/** A certificate secret with inline PEM text (the content is not parsed by validation). */
export function certificateSecret(): Plain {
  return {
    name: 'acm:color',
    tlsCertificate: {
      certificateChain: { inlineString: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
      privateKey: { inlineString: pemBlock(PKCS8_LABEL, 'MIIE') },
    },
  };
}

/** The valid-resource table: a name, the type URL and a builder for a fresh object. */
export const VALID_RESOURCES: readonly { name: string; typeUrl: string; build: () => Plain }[] = [
  { name: 'EDS cluster with SDS upstream TLS', typeUrl: TYPE.cluster, build: () => edsCluster() },
  { name: 'mTLS listener with HCM on RDS', typeUrl: TYPE.listener, build: tlsListener },
  { name: 'route configuration with weighted clusters', typeUrl: TYPE.route, build: weightedRoutes },
  { name: 'cluster load assignment', typeUrl: TYPE.endpoints, build: loadAssignment },
  { name: 'TLS certificate secret', typeUrl: TYPE.secret, build: certificateSecret },
];
