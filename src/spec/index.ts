// Public surface of the spec layer: App Mesh-shaped input types, loading and validation errors.
export * from './common-schema';
export * from './tls-schema';
export * from './endpoint-schema';
export * from './route-schema';
export * from './resource-schema';
export * from './errors';
export * from './parse';
export * from './load';
