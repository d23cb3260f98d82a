import type { FastifyInstance } from 'fastify';
import fresh from 'fresh';
import { createHash } from 'node:crypto';

// ETags and 304s as Express made them for GETs, so that validators clients hold stay valid across
// the move: a weak ETag on every string or Buffer body of a GET or HEAD answered 2xx,
// W/"<byte length in hex>-<27 characters of the base64 SHA-1>" (the `etag` package's format), and
// 304 when the request's If-None-Match (or If-Modified-Since) matches, judged by `fresh`. Other
// answers get none: no client can revalidate a POST or an error, and hashing every chat answer cost
// ~0.1 ms of CPU per turn. Files (@fastify/static) and streams carry their own validators, or none.
export function useConditionalGet(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const isCacheable = (request.method === 'GET' || request.method === 'HEAD') && reply.statusCode >= 200 && reply.statusCode < 300;
    if (!isCacheable) return done(null, payload);
    if (!reply.hasHeader('etag') && (typeof payload === 'string' || Buffer.isBuffer(payload))) void reply.header('etag', weakEtag(payload));
    if (!request.headers['if-none-match'] && !request.headers['if-modified-since']) return done(null, payload);
    const validators = { etag: reply.getHeader('etag') as string | undefined, 'last-modified': reply.getHeader('last-modified') as string | undefined };
    if (!fresh(request.headers, validators)) return done(null, payload);
    // No body and no Content-Length: Fastify sends none for a 304 without a payload.
    void reply.code(304).removeHeader('content-type').removeHeader('content-length').removeHeader('transfer-encoding');
    done(null, null);
  });
}

const weakEtag = (payload: string | Buffer) => `W/"${Buffer.byteLength(payload).toString(16)}-${createHash('sha1').update(payload).digest('base64').slice(0, 27)}"`;
