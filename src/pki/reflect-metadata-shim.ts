// @peculiar/x509 2.x resolves its algorithm providers through tsyringe, which refuses to load unless
// a Reflect metadata API exists (normally supplied by the `reflect-metadata` package, which is not
// among our dependencies). tsyringe only needs define/get/getOwn, so this installs exactly those,
// backed by a WeakMap, and only when no polyfill is present already.

type MetadataKey = unknown;
type MetadataTarget = object;

interface ReflectMetadataApi {
  defineMetadata?: (key: MetadataKey, value: unknown, target: MetadataTarget) => void;
  getOwnMetadata?: (key: MetadataKey, target: MetadataTarget) => unknown;
  getMetadata?: (key: MetadataKey, target: MetadataTarget) => unknown;
}

const store = new WeakMap<MetadataTarget, Map<MetadataKey, unknown>>();
const reflect = Reflect as unknown as ReflectMetadataApi;

if (typeof reflect.getMetadata !== 'function') {
  reflect.defineMetadata = (key, value, target) => {
    let entries = store.get(target);
    if (!entries) {
      entries = new Map();
      store.set(target, entries);
    }
    entries.set(key, value);
  };
  reflect.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  reflect.getMetadata = (key, target) => {
    // Walk the prototype chain, as reflect-metadata does for inherited design-time metadata.
    for (let current: MetadataTarget | null = target; current; current = Object.getPrototypeOf(current) as MetadataTarget | null) {
      const entries = store.get(current);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  };
}

export {};
