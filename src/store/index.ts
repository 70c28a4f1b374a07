// Public surface of the store: the interface and its directory implementation.
export * from './types';
export { DirectoryStore, revisionOf, type DirectoryStoreOptions } from './directory-store';
