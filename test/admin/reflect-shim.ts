// @peculiar/x509 (through tsyringe) needs Reflect's metadata API before it loads. Tests only
// generate certificates with it, so a minimal in-memory version is enough; an existing one is kept.
type MetadataStore = WeakMap<object, Map<string | symbol | undefined, Map<unknown, unknown>>>;
const store: MetadataStore = new WeakMap();

function bucket(target: object, property: string | symbol | undefined, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty && create) store.set(target, (byProperty = new Map()));
  let entries = byProperty?.get(property);
  if (!entries && create && byProperty) byProperty.set(property, (entries = new Map()));
  return entries;
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  reflect.defineMetadata = (key: unknown, value: unknown, target: object, property?: string | symbol): void => {
    bucket(target, property, true)!.set(key, value);
  };
  reflect.getOwnMetadata = (key: unknown, target: object, property?: string | symbol): unknown => bucket(target, property, false)?.get(key);
  reflect.getMetadata = (key: unknown, target: object, property?: string | symbol): unknown => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const found = bucket(t, property, false);
      if (found?.has(key)) return found.get(key);
    }
    return undefined;
  };
}

export {};
