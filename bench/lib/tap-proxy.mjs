// A pass-through TCP proxy on a free local port that hands each connection's bytes, both ways, to
// readers made per connection: the counting proxies in front of PostgreSQL and Redis.
import net from 'node:net';

// `tap()` is called once per connection and returns `{ fromClient?, fromServer? }`.
export async function startTapProxy({ targetHost, targetPort, tap }) {
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    const { fromClient, fromServer } = tap();
    client.on('data', (data) => {
      upstream.write(data);
      fromClient?.(data);
    });
    upstream.on('data', (data) => {
      client.write(data);
      fromServer?.(data);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
