// Probe: the ceiling of this machine for the conversation-list figure, without NestJS/Prisma.
// A bare node:http server (child process) answers GET with (a) a fixed 20-item JSON page, or (b) the
// service's list statement (page + total in one statement, run as a named prepared statement on a
// pg pool, as PrismaService.queryPrepared does) for the seeded list user of the bench database
// (needs `npm run bench -- --only 4 --keep-db` first). Driven by autocannon c=50, like figure 4.
//   node bench/probes/http-ceiling.mjs [secs]
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMs } from '../lib/proc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const secs = Number(process.argv[2] ?? 8);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ai_service_bench';

const serverSource = `
const http = require('node:http');
const pg = require('pg');
const mode = process.argv[1];
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
let userId;
const page = JSON.stringify({ data: Array.from({ length: 20 }, (_, i) => ({ id: '3f0e6a3e-8c1d-4f55-9a51-6c1c2d6f0a' + String(10 + i), title: 'Conversation number ' + i, userId: '0b7e0f8e-0000-4000-8000-000000000000', messageCount: 100, totalTokens: 2500, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() })), meta: { total: 1000, page: 1, limit: 20, totalPages: 50 } });
const LIST = 'SELECT t."total", p.* FROM (SELECT count(*)::int AS "total" FROM "Conversation" WHERE "userId" = $1::uuid) t '
  + 'LEFT JOIN LATERAL (SELECT "id", "userId", "title", "messageCount", "totalTokens", "createdAt", "updatedAt" FROM "Conversation" '
  + 'WHERE "userId" = $1::uuid ORDER BY "updatedAt" DESC, "id" DESC LIMIT $2::int OFFSET $3::int) p ON true';
const server = http.createServer(async (req, res) => {
  let body = page;
  if (mode === 'pg') {
    const { rows } = await pool.query({ name: 'list-page', text: LIST, values: [userId, 20, 0] });
    const total = rows[0].total;
    body = JSON.stringify({ data: rows.map(({ total, ...row }) => row), meta: { total, page: 1, limit: 20, totalPages: Math.ceil(total / 20) } });
  }
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
pool.query("SELECT id FROM \\"User\\" WHERE email = 'bench-list@bench.local'").then((r) => {
  userId = r.rows[0]?.id;
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
});
`;

for (const mode of ['static', 'pg']) {
  const child = spawn(process.execPath, ['-e', serverSource, mode], { cwd: ROOT, env: { ...process.env, DATABASE_URL }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const url = `http://127.0.0.1:${port}/`;
  const bin = path.join(ROOT, 'node_modules/autocannon/autocannon.js');
  execFileSync(process.execPath, [bin, '-c', '50', '-d', '2', '-j', url], { stdio: 'pipe' });
  const c0 = cpuMs(child.pid);
  const r = JSON.parse(execFileSync(process.execPath, [bin, '-c', '50', '-d', String(secs), '-j', url], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  const cpu = (cpuMs(child.pid) - c0) / r.requests.total;
  const label = { static: '(fixed JSON page)', pg: "+ pg (the service's list statement)" }[mode].padEnd(36);
  console.log(`bare node:http ${label}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, server CPU ${cpu.toFixed(3)} ms/req`);
  child.kill();
}
process.exit(0);
