// Public surface of the translation from the mesh model to Envoy v3 resources.
export {
  translateEndpoint, buildSnapshot, translateMesh, sdsSecretsNeeded, sdsSecretNamesOf,
  type EndpointResources, type MeshTranslation, type TranslateOptions,
} from './translate';
export * from './names';
export {
  formOf, grpcServerListenerName, grpcListeningAddress, grpcClientRouteName, type EndpointForm,
} from './proxyless';
