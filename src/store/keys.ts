// The key a resource's entry gets, the same in every store: a spec file name, so a directory and
// etcd hold the same keys and `meshd store export`/`import` map one entry to one file.
import { createHash } from 'node:crypto';
import type { ResourceIdentity } from './types';

/** Revision of an entry's text: a short content hash. */
export function revisionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}

// Names may hold any character; a file name keeps letters, digits, `-` and `_` and escapes the rest
// (`.` included, so the separators stay unambiguous and one resource has exactly one name).
function escapeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, (ch) => [...Buffer.from(ch)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

const kindSegment: Readonly<Record<string, string>> = {
  Mesh: 'mesh', VirtualNode: 'virtualNode', VirtualGateway: 'virtualGateway', VirtualService: 'virtualService',
  VirtualRouter: 'virtualRouter', Route: 'route', GatewayRoute: 'gatewayRoute',
};

// Past this a name is replaced by its hash: file names are limited to 255 bytes.
const MAX_KEY_LENGTH = 200;

/** The stable spec file name an entry for this resource gets. */
export function specKeyFor(resource: ResourceIdentity): string {
  const kind = kindSegment[resource.kind] ?? resource.kind;
  const parts = resource.kind === 'Mesh'
    ? [resource.meshName, kind]
    : resource.parentName !== undefined
      ? [resource.meshName, resource.kind === 'Route' ? 'virtualRouter' : 'virtualGateway', resource.parentName, kind, resource.name]
      : [resource.meshName, kind, resource.name];
  const key = `${parts.map(escapeName).join('.')}.json`;
  if (key.length <= MAX_KEY_LENGTH) return key;
  return `${escapeName(resource.meshName).slice(0, 60)}.${kind}.${revisionOf(parts.join('\0'))}.json`;
}
