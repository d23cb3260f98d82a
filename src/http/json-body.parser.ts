import bodyParser from 'body-parser';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';

// Request bodies are read by body-parser's JSON parser, as they were before the move to Fastify,
// so that clients see the same answers: BODY_LIMIT (413 "request entity too large"), the charset
// and Content-Encoding checks (415, gzip/deflate/br inflated), a JSON top level that is not an
// object or array and malformed JSON (400 with the parser's message), an empty body. A body of any
// other type is left unread (undefined) and the DTO validation answers, where Fastify's own parsers
// would refuse the type with 415 or hand text/plain over as a string.
// @fastify/multipart adds its own parser for multipart/form-data, which wins over this catch-all.
export function useJsonBodyParser(fastify: FastifyInstance, limit: string): void {
  const parseJson = bodyParser.json({ limit });
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    const raw = request.raw as IncomingMessage & { body?: unknown };
    // (body-parser reads the response only for its `verify` option, which is not used.)
    parseJson(raw, undefined as unknown as ServerResponse, (error?: unknown) => done(error instanceof Error ? error : null, raw.body));
  });
  // Fastify reads no body for GET and HEAD; body-parser read theirs too (a malformed or oversized
  // JSON body there was a 400 or 413). It skips at once a request without a body.
  fastify.addHook('preValidation', (request, _reply, done) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return done();
    parseJson(request.raw, undefined as unknown as ServerResponse, (error?: unknown) => done(error instanceof Error ? error : undefined));
  });
}
