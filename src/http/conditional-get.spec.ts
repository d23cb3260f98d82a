import fastify, { FastifyInstance } from 'fastify';
import { request as httpRequest } from 'node:http';
import { useConditionalGet } from './conditional-get';

// The ETag Express (the `etag` package) gave the body {"a":1}.
const EXPRESS_ETAG = 'W/"7-n4nHQM60bXQYySSnisV5QdXpZSA"';

describe(useConditionalGet.name, () => {
  let app: FastifyInstance;
  let base: string;
  // node:http, not fetch: fetch adds `Cache-Control: no-cache` to a request with If-None-Match.
  const request = (method: string, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject).end();
    });

  beforeAll(async () => {
    app = fastify();
    useConditionalGet(app);
    app.get('/thing', () => ({ a: 1 }));
    app.post('/thing', () => ({ a: 1 }));
    app.get('/missing', (_request, reply) => reply.code(404).send({ a: 1 }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('tags a body with the ETag Express gave it', async () => {
    const res = await request('GET', '/thing');
    expect([res.status, res.headers.etag, res.body]).toEqual([200, EXPRESS_ETAG, '{"a":1}']);
  });

  it.each([
    ['the same ETag', EXPRESS_ETAG],
    ['a list holding it', `"other", ${EXPRESS_ETAG}`],
    ['*', '*'],
  ])('answers a GET naming %s with 304, no body and no Content-Length', async (_label, ifNoneMatch) => {
    const res = await request('GET', '/thing', { 'if-none-match': ifNoneMatch });
    expect([res.status, res.body, res.headers['content-length'], res.headers['content-type'], res.headers.etag]).toEqual([304, '', undefined, undefined, EXPRESS_ETAG]);
  });

  it.each([
    ['another ETag', 'GET', '/thing', { 'if-none-match': '"other"' }],
    ['a request that asks for no cache', 'GET', '/thing', { 'if-none-match': EXPRESS_ETAG, 'cache-control': 'no-cache' }],
    ['a POST', 'POST', '/thing', { 'if-none-match': EXPRESS_ETAG }],
    ['an error answer', 'GET', '/missing', { 'if-none-match': EXPRESS_ETAG }],
  ] as const)('answers in full to %s', async (_label, method, url, headers) => {
    const res = await request(method, url, headers);
    expect([res.status >= 300 && res.status < 400, res.body]).toEqual([false, '{"a":1}']);
  });

  it.each([
    ['a POST', 'POST', '/thing'],
    ['an error answer', 'GET', '/missing'],
  ] as const)('tags no ETag on %s (nothing could revalidate it)', async (_label, method, url) => {
    const res = await request(method, url);
    expect([res.body, res.headers.etag]).toEqual(['{"a":1}', undefined]);
  });
});
