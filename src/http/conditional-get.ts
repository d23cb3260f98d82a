import fastifyEtag from '@fastify/etag';
import type { FastifyInstance } from 'fastify';
import fresh from 'fresh';
import { createHash } from 'node:crypto';

// ETags and 304s as Express made them, so that validators clients hold stay valid across the move:
// a weak ETag on every string or Buffer body, W/"<byte length in hex>-<27 characters of the
// base64 SHA-1>" (the `etag` package's format); 304 only for a GET or HEAD answered 2xx whose
// validators the request's If-None-Match (or If-Modified-Since) matches, judged by `fresh`.
// Files (@fastify/static) and streams carry their own validators, or none.
export async function useConditionalGet(fastify: FastifyInstance): Promise<void> {
  await fastify.register(fastifyEtag, {
    weak: true,
    replyWith304: false,
    hashFn: (payload) => `${Buffer.byteLength(payload).toString(16)}-${createHash('sha1').update(payload).digest('base64').slice(0, 27)}`,
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const isCacheable = (request.method === 'GET' || request.method === 'HEAD') && reply.statusCode >= 200 && reply.statusCode < 300;
    if (!isCacheable || (!request.headers['if-none-match'] && !request.headers['if-modified-since'])) return done(null, payload);
    const validators = { etag: reply.getHeader('etag') as string | undefined, 'last-modified': reply.getHeader('last-modified') as string | undefined };
    if (!fresh(request.headers, validators)) return done(null, payload);
    // No body and no Content-Length: Fastify sends none for a 304 without a payload.
    void reply.code(304).removeHeader('content-type').removeHeader('content-length').removeHeader('transfer-encoding');
    done(null, null);
  });
}
