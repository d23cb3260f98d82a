// Probe: figure 4 (GET /ai/conversations?page=1&limit=20, autocannon) on several builds at once,
// interleaved in short rounds so that the load of a shared machine spreads over all of them
// (a full `npm run bench -- --only 4` per build takes a minute each and drifts with the load).
// Every build runs as its own service process (LOG_LEVEL=warn, as in the bench) against the same
// database; an idle one costs nothing while another is measured. Per round and build: c=50 for
// <secs> (throughput, p50/p99, service CPU per request), then a fixed 300 req/s for <secs>
// (service CPU per request at equal load, the steadiest figure for small differences).
// Needs the list user of a kept bench database (`npm run bench -- --only 4 --keep-db`).
//   node bench/probes/list-ab.mjs <rounds> <secs> name=distDir [name=distDir ...]
// BENCH_DATABASE_URL: the bench database.
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { cpuMs } from '../lib/proc.mjs';
import { claimRedisDb, releaseRedisDb } from '../lib/setup.mjs';

const require = createRequire(import.meta.url);
const jwt = require('jsonwebtoken');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [rounds, secs, ...specs] = process.argv.slice(2);
if (!specs.length) throw new Error('usage: node bench/probes/list-ab.mjs <rounds> <secs> name=distDir ...');
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ai_service_bench';
const SECRET = 'bench-jwt-secret-0123456789abcdef';
const owner = `list-ab-${process.pid}`;
const redisIndex = await claimRedisDb('redis://127.0.0.1:6379', 11, owner);
const db = new pg.Client({ connectionString: DATABASE_URL });
await db.connect();
const { rows } = await db.query(`SELECT id, email FROM "User" WHERE email = 'bench-list@bench.local'`);
await db.end();
const token = jwt.sign({ sub: rows[0].id, email: rows[0].email, typ: 'access' }, SECRET, { algorithm: 'HS256', expiresIn: '3h' });

const services = [];
process.on('exit', () => services.forEach((s) => s.child.kill()));
for (const [i, spec] of specs.entries()) {
  const [name, dist] = spec.split('=');
  const port = 21000 + (process.pid % 10000) + i;
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'bench/lib/child-preload.cjs'), path.join(path.resolve(ROOT, dist), 'main')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL,
      REDIS_URL: `redis://127.0.0.1:6379/${redisIndex}`,
      REDIS_PREFIX: `ai-list-ab-${i}`,
      JWT_SECRET: SECRET,
      JWT_EXPIRES_IN: '3h',
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      OPENAI_MODEL: 'gpt-4o-mini',
      AI_RATE_LIMIT: '1000000000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  services.push({ name, child, url: `http://127.0.0.1:${port}/api/v1/ai/conversations?page=1&limit=20`, runs: [] });
}
for (const s of services) {
  for (let i = 0; ; i++) {
    if (i > 300) throw new Error(`${s.name} did not start`);
    const res = await fetch(s.url, { headers: { authorization: `Bearer ${token}` } }).catch(() => null);
    if (res?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const bin = path.join(ROOT, 'node_modules/autocannon/autocannon.js');
async function load(s, extra) {
  const cpu0 = cpuMs(s.child.pid);
  const { stdout } = await promisify(execFile)(process.execPath, [bin, '-c', '50', '-d', String(secs), '-j', '-H', `Authorization=Bearer ${token}`, ...extra, s.url], {
    maxBuffer: 1 << 26,
  });
  const r = JSON.parse(stdout);
  if (r.non2xx || r.errors) throw new Error(`${s.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpu: (cpuMs(s.child.pid) - cpu0) / r.requests.total };
}
for (const s of services) await load(s, []); // warm-up
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (let r = 0; r < Number(rounds); r++) {
  // Alternate the order each round (ABBA...), so neither side always follows the other.
  for (const s of r % 2 ? [...services].reverse() : services) {
    const open = await load(s, []);
    const fixed = await load(s, ['-R', '300']);
    s.runs.push({ open, fixed });
    console.log(
      `round ${r + 1} ${s.name.padEnd(10)} c=50: ${open.rps.toFixed(0)} req/s, p50 ${open.p50} ms, p99 ${open.p99} ms, CPU ${open.cpu.toFixed(3)} ms/req | 300 req/s: CPU ${fixed.cpu.toFixed(3)} ms/req`,
    );
  }
}
console.log('-- medians');
for (const s of services) {
  const m = (f) => median(s.runs.map(f));
  console.log(
    `${s.name.padEnd(10)} c=50: ${m((x) => x.open.rps).toFixed(0)} req/s, p50 ${m((x) => x.open.p50)} ms, p99 ${m((x) => x.open.p99)} ms, CPU ${m((x) => x.open.cpu).toFixed(3)} ms/req | 300 req/s: CPU ${m((x) => x.fixed.cpu).toFixed(3)} ms/req`,
  );
}
for (const s of services) s.child.kill();
await releaseRedisDb('redis://127.0.0.1:6379', redisIndex, owner);
process.exit(0);
