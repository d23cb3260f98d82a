import { Agent, request } from 'node:http';
import type { Json } from './json';

export interface BarrierRequest {
  // Overrides the base URL given to releaseTogether (to spread one burst over several instances).
  baseUrl?: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface BarrierResponse {
  status: number;
  body: Json;
}

// Sends every request but the last byte of its body, each on its own connection, waits until all
// of it has left, then sends the last bytes together: the server completes them all within about
// a millisecond, as a burst from many clients would arrive, whatever the client's own scheduling.
export async function releaseTogether(baseUrl: string, requests: BarrierRequest[]): Promise<BarrierResponse[]> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  try {
    const pending = await Promise.all(
      requests.map(async ({ baseUrl: target = baseUrl, method, path, headers = {}, body }) => {
        const payload = Buffer.from(JSON.stringify(body ?? {}));
        const req = request(`${target}${path}`, {
          method,
          agent,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length) },
        });
        const response = new Promise<BarrierResponse>((resolve, reject) => {
          req.once('error', reject);
          req.once('response', (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
          });
        });
        await new Promise<void>((resolve, reject) => req.write(payload.subarray(0, -1), (error) => (error ? reject(error) : resolve())));
        return { req, last: payload.subarray(-1), response };
      }),
    );
    for (const { req, last } of pending) req.end(last);
    return await Promise.all(pending.map((p) => p.response));
  } finally {
    agent.destroy();
  }
}
