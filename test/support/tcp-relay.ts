// A loopback TCP relay in front of a server, to cut one client off from it (as a network
// partition would) while others still reach it: `cut` closes every relayed connection and stops
// listening, `restore` listens again on the same port.
import * as net from 'node:net';

export interface TcpRelay {
  /** `127.0.0.1:PORT` to dial instead of the target. */
  readonly endpoint: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpRelay(target: string): Promise<TcpRelay> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(port, host);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => { inbound.destroy(); outbound.destroy(); });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  const listen = (listenPort: number): Promise<number> => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
  const relayPort = await listen(0);
  const cut = async (): Promise<void> => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    endpoint: `127.0.0.1:${relayPort}`,
    cut,
    restore: async () => { if (!server.listening) await listen(relayPort); },
    close: cut,
  };
}
