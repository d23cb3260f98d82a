import { createServer, Server, Socket, connect } from 'node:net';

// A TCP proxy the test controls, standing between the app and a real dependency (PostgreSQL):
// `cut()` drops every open connection and refuses new ones (the dependency is "down"), `restore()`
// listens again on the same port. Unlike pg_terminate_backend it gives a real outage window.
export interface TcpProxy {
  port: number;
  // Open client connections right now.
  connections(): number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        // A cut connection errors on both sides; that is the point, not a test failure.
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.address() as { port: number }).port;
  };

  const stop = async () => {
    const closing = server ? new Promise((resolve) => server!.close(resolve)) : Promise.resolve();
    server = undefined;
    for (const socket of sockets) socket.destroy();
    await closing;
  };

  await listen();
  return {
    get port() {
      return port;
    },
    connections: () => [...sockets].length / 2,
    cut: stop,
    restore: listen,
    close: stop,
  };
}
