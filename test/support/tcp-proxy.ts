import { createServer, Server, Socket, connect } from 'node:net';

// A TCP proxy the test controls, standing between the app and a real dependency (PostgreSQL):
// `cut()` drops every open connection and refuses new ones (the dependency is "down"), `restore()`
// listens again on the same port. Unlike pg_terminate_backend it gives a real outage window.
export interface TcpProxy {
  port: number;
  cut(): Promise<void>;
  // A network partition: connections stay open (and new ones are accepted) but no byte gets through.
  freeze(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let isFrozen = false;
  const frozenPipes: Array<() => void> = [];

  const listen = async () => {
    server = createServer((client) => {
      if (isFrozen) {
        sockets.add(client);
        client.on('close', () => sockets.delete(client));
        client.on('error', () => undefined);
        return client.pause();
      }
      const upstream = connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        // A cut connection errors on both sides; that is the point, not a test failure.
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      frozenPipes.push(() => {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      });
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
    frozenPipes.length = 0;
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
    cut: stop,
    freeze: () => {
      isFrozen = true;
      for (const freezePipe of frozenPipes.splice(0)) freezePipe();
    },
    restore: async () => {
      isFrozen = false;
      await stop();
      await listen();
    },
    close: stop,
  };
}
