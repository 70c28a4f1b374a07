// Envoy's v3 API, loaded once per process from the pinned @grpc/grpc-js-xds package
// (it ships Envoy, xds/udpa, googleapis and protoc-gen-validate under deps/). Nothing is copied
// into this repository; see proto/README.md.
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as protobuf from 'protobufjs';

const depsRoot = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');

/** Include directories, in the order protoc would search them. */
export const PROTO_INCLUDE_DIRS: readonly string[] = [
  path.join(depsRoot, 'envoy-api'),
  path.join(depsRoot, 'xds'),
  path.join(depsRoot, 'googleapis'),
  path.join(depsRoot, 'protoc-gen-validate'),
  // google/protobuf/*.proto as shipped by protobufjs itself.
  path.dirname(require.resolve('protobufjs/package.json')),
];

/**
 * Every file meshd encodes or decodes, directly or inside an Any. Imports are followed, so this
 * only names the roots: services, resource types and the extensions referenced by typed_config.
 */
const ENTRY_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/service/cluster/v3/cds.proto',
  'envoy/service/listener/v3/lds.proto',
  'envoy/service/route/v3/rds.proto',
  'envoy/service/endpoint/v3/eds.proto',
  'envoy/service/secret/v3/sds.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'google/rpc/status.proto',
];

/**
 * Files loaded into the root on first use of a type they define, by package prefix: a serving
 * meshd needs the bootstrap (68 files, ~2 MB of reflection) only to render one, and CSDS only
 * when a client asks. Nothing that meshd serves refers to them through an Any.
 */
const ON_DEMAND_FILES: readonly { readonly packagePrefix: string; readonly file: string }[] = [
  { packagePrefix: 'envoy.config.bootstrap.v3.', file: 'envoy/config/bootstrap/v3/bootstrap.proto' },
  { packagePrefix: 'envoy.service.status.v3.', file: 'envoy/service/status/v3/csds.proto' },
];

let cachedRoot: protobuf.Root | undefined;

/** The loaded, resolved protobufjs root holding Envoy's v3 API. */
export function envoyRoot(): protobuf.Root {
  if (cachedRoot) return cachedRoot;
  const root = new protobuf.Root();
  root.resolvePath = (origin: string, target: string): string => {
    if (path.isAbsolute(target)) return target;
    for (const dir of PROTO_INCLUDE_DIRS) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  root.loadSync(ENTRY_FILES, { keepCase: false, alternateCommentMode: false });
  root.resolveAll();
  cachedRoot = root;
  return root;
}

const typesByName = new Map<string, protobuf.Type>();

/**
 * Looks a message type up by its full name (without a leading dot); remembered, as lookups split
 * and walk the name. A type of an on-demand file loads that file first.
 */
export function messageType(fullName: string): protobuf.Type {
  let type = typesByName.get(fullName);
  if (!type) {
    const root = envoyRoot();
    const onDemand = ON_DEMAND_FILES.find((entry) => fullName.startsWith(entry.packagePrefix));
    if (onDemand && !root.lookup(fullName)) {
      // Added to the same root: types already in use stay the same objects.
      root.loadSync(onDemand.file, { keepCase: false, alternateCommentMode: false });
      root.resolveAll();
    }
    type = root.lookupType(fullName);
    typesByName.set(fullName, type);
  }
  return type;
}
