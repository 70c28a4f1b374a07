// What keeps a resource from being deleted, as App Mesh answers ResourceInUseException: a mesh's
// resources, a router's routes, a gateway's gateway routes, and anything whose spec names it.
import { sameRef, type Catalog, type CatalogItem } from './catalog';
import { kinds, type ResourceRef } from './resource-kinds';

// Whether `spec` names the resource anywhere (a provider, a backend, a route or gateway route target).
// Route targets say `virtualNode: name`, providers and backends `virtualNodeName: name`.
function mentions(value: unknown, fields: readonly string[], name: string): boolean {
  if (Array.isArray(value)) return value.some((item) => mentions(item, fields, name));
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return fields.some((field) => record[field] === name) || Object.values(record).some((child) => mentions(child, fields, name));
}

/** Resources that keep `ref` from being deleted, as App Mesh refuses with ResourceInUseException. */
export function usersOf(catalog: Catalog, ref: ResourceRef): CatalogItem[] {
  const inMesh = catalog.items.filter((item) => item.ref.meshName === ref.meshName && !sameRef(item.ref, ref));
  if (ref.kind === 'Mesh') return inMesh;
  const fields = [kinds[ref.kind].nameField, kinds[ref.kind].noun];
  return inMesh.filter((item) => {
    const child = kinds[item.ref.kind].parent;
    if (child?.kind === ref.kind && item.ref.parentName === ref.name) return true;
    if (ref.kind === 'Route' || ref.kind === 'GatewayRoute') return false;
    return mentions(item.body.spec, fields, ref.name);
  });
}
