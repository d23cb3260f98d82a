// Probe: CPU per request of each piece of the REST request pipeline that runs on
// GET /ai/conversations, measured alone (sequential calls in this process, classes from dist/),
// to rank what is worth changing. Wall-clock per call on an idle core; under load each costs more
// (cache misses, GC), so compare the rows with each other, not with the bench's CPU per request.
//   node bench/probes/pipeline-micro.mjs [dist dir]
import { EventEmitter } from 'node:events';
import { createSecretKey } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distExports } from '../lib/dist-exports.mjs';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.resolve(ROOT, process.argv[2] ?? 'dist');
const dist = distExports(DIST);
const { Reflector } = require('@nestjs/core');
const { ExecutionContextHost } = require('@nestjs/core/helpers/execution-context-host');
const { JwtService } = require('@nestjs/jwt');
const jwt = require('jsonwebtoken');
const pino = require('pino');

const secret = 'bench-jwt-secret-0123456789abcdef';
const key = createSecretKey(Buffer.from(secret));
const token = jwt.sign({ sub: '0b7e0f8e-0000-4000-8000-000000000000', email: 'a@b.c', typ: 'access' }, secret, { algorithm: 'HS256', expiresIn: '1h' });
const settings = { LOG_LEVEL: 'warn', JWT_SECRET: secret };
const config = { jwtKey: key, get: (k) => settings[k] };

function bench(label, fn, n = 20000) {
  for (let i = 0; i < 2000; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(`${label.padEnd(64)} ${us.toFixed(1).padStart(7)} µs`);
}
async function benchAsync(label, fn, n = 20000) {
  for (let i = 0; i < 2000; i++) await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(`${label.padEnd(64)} ${us.toFixed(1).padStart(7)} µs`);
}

const ConversationsController = dist.load('ConversationsController');
const handler = ConversationsController.prototype.list;
const fakeReq = () => ({
  headers: { authorization: `Bearer ${token}`, host: '127.0.0.1' },
  method: 'GET',
  url: '/api/v1/ai/conversations?page=1&limit=20',
  originalUrl: '/api/v1/ai/conversations?page=1&limit=20',
  query: { page: '1', limit: '20' },
  socket: { remoteAddress: '127.0.0.1', remotePort: 5000 },
  readableAborted: false,
});
function fakeRes() {
  const res = new EventEmitter();
  const headers = {};
  res.statusCode = 200;
  res.writableEnded = true;
  res.setHeader = (k, v) => (headers[k.toLowerCase()] = v);
  res.getHeader = (k) => headers[k.toLowerCase()];
  res.getHeaders = () => headers;
  return res;
}
const httpContext = (req, res) => new ExecutionContextHost([req, res, () => {}], ConversationsController, handler);

console.log('-- authentication');
try {
  const JwtStrategy = dist.load('JwtStrategy');
  new JwtStrategy(config); // registers 'jwt' with passport
  const JwtAuthGuard = dist.load('JwtAuthGuard');
  // The account check reads an in-memory set; an empty one here.
  const guard = new JwtAuthGuard(new Reflector(), { isDisabled: () => false });
  await benchAsync('JwtAuthGuard via @nestjs/passport + passport-jwt', () => guard.canActivate(httpContext(fakeReq(), fakeRes())));
} catch (error) {
  console.log(`(no passport guard in this build: ${error.message.split('\n')[0]})`);
}
const jwtService = new JwtService({ secret: key, verifyOptions: { algorithms: ['HS256'] } });
bench('JwtService.verify (jsonwebtoken, KeyObject) + header parse', () => {
  const [, t] = /^Bearer (\S+)$/i.exec(fakeReq().headers.authorization);
  return jwtService.verify(t);
});

console.log('-- rate limit guard (route without a bucket)');
const RateLimitGuard = dist.load('RateLimitGuard');
const rl = new RateLimitGuard(new Reflector(), {
  consume: () => {
    throw new Error('no bucket expected');
  },
});
await benchAsync('RateLimitGuard.canActivate', () => rl.canActivate(httpContext(fakeReq(), fakeRes())));

console.log('-- query validation');
const createValidationPipe = dist.load('createValidationPipe');
const ListConversationsQueryDto = dist.load('ListConversationsQueryDto');
const pipe = createValidationPipe();
await benchAsync('ValidationPipe(ListConversationsQueryDto) {page, limit}', () =>
  pipe.transform({ page: '1', limit: '20' }, { type: 'query', metatype: ListConversationsQueryDto }),
);

console.log('-- request logging (the onResponse hook, our root logger, to /dev/null)');
const useRequestLog = dist.load('useRequestLog');
for (const level of ['warn', 'info']) {
  const hooks = {};
  useRequestLog({ addHook: (name, fn) => (hooks[name] = fn) }, pino({ level }, pino.destination({ dest: '/dev/null', sync: true })));
  bench(`request-log onRequest + onResponse, LOG_LEVEL=${level}`, () => {
    const request = { id: 'req-1', method: 'GET', url: '/api/v1/ai/conversations?page=1&limit=20', user: { id: 'u', email: 'e' } };
    const reply = { statusCode: 200, elapsedTime: 4.2, header: () => reply };
    hooks.onRequest(request, reply, () => {});
    hooks.onResponse(request, reply, () => {});
  });
}

console.log('-- metrics');
const MetricsService = dist.load('MetricsService');
const metrics = new MetricsService({ get: (k) => ({ PROCESS_ROLE: 'api', OPENAI_MODEL: 'm', OPENAI_EMBEDDING_MODEL: 'e' })[k] });
bench('MetricsService.observeHttpRequest', () => metrics.observeHttpRequest('GET', '/api/v1/ai/conversations', 200, 0.01));
const httpMetricsHook = dist.load('httpMetricsHook');
const mh = httpMetricsHook(metrics);
bench('httpMetricsHook (onResponse)', () => {
  const request = { method: 'GET', is404: false, routeOptions: { url: '/api/v1/ai/conversations' } };
  mh(request, { statusCode: 200, elapsedTime: 5 }, () => {});
});

console.log('-- response body');
const mapConversation = dist.load('mapConversation');
const rows = Array.from({ length: 20 }, (_, i) => ({
  id: `3f0e6a3e-8c1d-4f55-9a51-6c1c2d6f0a${10 + i}`,
  userId: '0b7e0f8e-0000-4000-8000-000000000000',
  title: `Conversation number ${i}`,
  messageCount: 100,
  totalTokens: 2500,
  createdAt: new Date(),
  updatedAt: new Date(),
  total: 1000,
}));
bench('map 20 rows + JSON.stringify the page (Date fields)', () =>
  JSON.stringify({ data: rows.map(mapConversation), meta: { total: 1000, page: 1, limit: 20, totalPages: 50 } }),
);
// The same bytes with the timestamps already ISO strings: JSON.stringify leaves its fast path for
// every object with a toJSON (each Date), which costs more than the 40 toISOString calls.
const isoRows = rows.map((r) => ({ ...mapConversation(r), createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() }));
bench('JSON.stringify the page (timestamps as ISO strings)', () => JSON.stringify({ data: isoRows, meta: { total: 1000, page: 1, limit: 20, totalPages: 50 } }));
bench('new Date(text) x 40 (pg timestamp parsing)', () => {
  for (let i = 0; i < 40; i++) new Date('2026-11-25T16:03:42.123Z');
});
process.exit(0);
