// Public surface of the store: the interface, its directory and etcd implementations.
export * from './types';
export { revisionOf, specKeyFor } from './keys';
export { DirectoryStore, type DirectoryStoreOptions } from './directory-store';
export { EtcdStore, parseStoreUrl, type EtcdStoreOptions, type EtcdStoreTarget } from './etcd-store';
export { importDirectory, exportDirectory, type ImportResult } from './transfer';
