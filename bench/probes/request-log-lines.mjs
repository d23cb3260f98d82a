// Probe: the log lines a build writes for a fixed set of requests, at LOG_LEVEL=info, with the
// volatile fields (time, pid, hostname, responseTime, latencyMs, generated ids) replaced, so two
// builds can be diffed line for line when the request-logging path changes. Needs the database of
// `npm run bench -- --keep-db` (its list user) and Redis.
//   node bench/probes/request-log-lines.mjs [dist dir] > lines.txt
// BENCH_DATABASE_URL: another bench database.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimRedisDb, releaseRedisDb } from '../lib/setup.mjs';

const require = createRequire(import.meta.url);
const jwt = require('jsonwebtoken');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.resolve(ROOT, process.argv[2] ?? 'dist');
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ai_service_bench';
const SECRET = 'bench-jwt-secret-0123456789abcdef';
const owner = `log-lines-${process.pid}`;
const redisIndex = await claimRedisDb('redis://127.0.0.1:6379', 12, owner);

const fake = spawn(process.execPath, [path.join(ROOT, 'bench/fake-upstream.mjs'), '--chat-delay-ms', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
const fakeUrl = await new Promise((resolve) => fake.stdout.once('data', (d) => resolve(JSON.parse(String(d).split('\n')[0]).url)));
const port = 20000 + (process.pid % 20000);
const app = spawn(process.execPath, [path.join(DIST, 'main')], {
  cwd: ROOT,
  env: {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    PORT: String(port),
    DATABASE_URL,
    REDIS_URL: `redis://127.0.0.1:6379/${redisIndex}`,
    REDIS_PREFIX: 'ai-log-lines',
    JWT_SECRET: SECRET,
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    OPENAI_API_KEY: 'sk-log-lines',
    OPENAI_BASE_URL: fakeUrl,
    OPENAI_MODEL: 'gpt-4o-mini',
    OPENAI_MAX_RETRIES: '0',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
app.stdout.on('data', (d) => (out += d));
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  if (i > 300) throw new Error('service did not start');
  if (
    await fetch(`${base}/api/v1/health`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  await new Promise((r) => setTimeout(r, 100));
}
const pg = (await import('pg')).default;
const db = new pg.Client({ connectionString: DATABASE_URL });
await db.connect();
const { rows } = await db.query(`SELECT id, email FROM "User" WHERE email = 'bench-list@bench.local'`);
await db.end();
const token = jwt.sign({ sub: rows[0].id, email: rows[0].email, typ: 'access' }, SECRET, { algorithm: 'HS256', expiresIn: '1h' });
const auth = { authorization: `Bearer ${token}` };
const mark = out.length;

const requests = [
  ['list', '/api/v1/ai/conversations?page=2&limit=3', { ...auth, 'x-request-id': 'list-1' }],
  ['list, no token', '/api/v1/ai/conversations', { 'x-request-id': 'list-401' }],
  ['list, bad token', '/api/v1/ai/conversations', { authorization: 'Bearer nope', 'x-request-id': 'list-401b' }],
  ['list, bad query', '/api/v1/ai/conversations?limit=0', { ...auth, 'x-request-id': 'list-400' }],
  ['unknown route', '/api/v1/nowhere', { ...auth, 'x-request-id': 'nowhere-404' }],
  ['metrics (outside the prefix)', '/metrics', { 'x-request-id': 'scrape-1' }],
  ['usage', '/api/v1/ai/usage', { ...auth, 'x-request-id': 'usage-1' }],
  ['chat', '/api/v1/ai/chat', { ...auth, 'x-request-id': 'chat-1', 'content-type': 'application/json' }, JSON.stringify({ message: '[log] hi' })],
];
for (const [, url, headers, body] of requests) {
  const res = await fetch(base + url, { method: body ? 'POST' : 'GET', headers, body });
  await res.arrayBuffer();
}
await new Promise((r) => setTimeout(r, 300));
app.kill('SIGTERM');
await new Promise((r) => app.once('exit', r));
fake.kill();
await releaseRedisDb('redis://127.0.0.1:6379', redisIndex, owner);

const VOLATILE = new Set(['time', 'pid', 'hostname', 'responseTime', 'latencyMs']);
for (const line of out
  .slice(mark)
  .split('\n')
  .filter((l) => l.startsWith('{'))) {
  // Key order and duplicates matter (they are what a log shipper sees), so rewrite the text.
  let text = line;
  for (const key of VOLATILE) text = text.replace(new RegExp(`"${key}":("[^"]*"|[0-9.]+)`, 'g'), `"${key}":"<${key}>"`);
  text = text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) => (id === rows[0].id ? '<user>' : '<uuid>'));
  console.log(text);
}
