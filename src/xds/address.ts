// Addresses of meshd's gRPC endpoints, as operators write them: `host:port`, `[v6]:port`,
// `unix:/path` or `unix:///path`. One parser for the servers that listen and the bootstraps
// that point proxies at them.

export type XdsAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export function parseXdsAddress(address: string): XdsAddress {
  if (address.startsWith('unix:')) {
    let path = address.slice('unix:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (!path) throw new Error(`address "${address}": unix socket path is empty`);
    return { kind: 'unix', path };
  }
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  if (!match) throw new Error(`address "${address}": expected HOST:PORT, [IPV6]:PORT or unix:PATH`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`address "${address}": port ${port} is out of range`);
  return { kind: 'tcp', host: (match[1] ?? match[2])!, port };
}

export function formatXdsAddress(address: XdsAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
