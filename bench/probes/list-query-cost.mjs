// Probe: what the conversation list's page + total costs through each route to PostgreSQL —
// Prisma's query builder, $queryRaw, pg, and the named prepared statement the service runs
// (PrismaService.queryPrepared) — for the seeded list user (1,000 conversations) of a bench database
// (`npm run bench -- --only 4 --keep-db` first). For each variant: sequential CPU and wall time
// per call in this process, then 50 calls in flight for a few seconds (like autocannon c=50):
// calls/s, this process's CPU per call and PostgreSQL's (all its processes, from /proc).
//   node bench/probes/list-query-cost.mjs [database url] [secs]
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import pg from 'pg';
import { cpuMs } from '../lib/proc.mjs';

const require = createRequire(import.meta.url);
const url = process.argv[2] || process.env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/ai_service_bench';
const secs = Number(process.argv[3] ?? 4);
const { PrismaClient, Prisma } = require('../../dist/generated/prisma/client.js');
const { PrismaPg } = require('@prisma/adapter-pg');
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 20 }) });
const pool = new pg.Pool({ connectionString: url, max: 20 });
const { id: userId } = await prisma.user.findUniqueOrThrow({ where: { email: 'bench-list@bench.local' }, select: { id: true } });
const [skip, take] = [0, 20];

const COLUMNS = 'id, title, "userId", "messageCount", "totalTokens", "createdAt", "updatedAt"';
const PAGE_SQL = `SELECT ${COLUMNS} FROM "Conversation" WHERE "userId" = $1 ORDER BY "updatedAt" DESC, id DESC LIMIT $2 OFFSET $3`;
const COUNT_SQL = 'SELECT count(*)::int AS total FROM "Conversation" WHERE "userId" = $1';
// The total on every row; one row with a null page when the page is past the end.
const ONE_SQL = `SELECT t.total, p.* FROM (${COUNT_SQL}) t LEFT JOIN LATERAL (${PAGE_SQL}) p ON true`;

const variants = {
  'prisma findMany + count (2 statements)': () =>
    Promise.all([
      prisma.conversation.findMany({ where: { userId }, orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }], skip, take }),
      prisma.conversation.count({ where: { userId } }),
    ]),
  'prisma findMany only (1 statement)': () => prisma.conversation.findMany({ where: { userId }, orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }], skip, take }),
  'prisma $queryRaw page + total (1 statement)': () =>
    prisma.$queryRaw`SELECT t.total, p.* FROM (SELECT count(*)::int AS total FROM "Conversation" WHERE "userId" = ${userId}::uuid) t
      LEFT JOIN LATERAL (SELECT "id", "title", "userId", "messageCount", "totalTokens", "createdAt", "updatedAt" FROM "Conversation"
        WHERE "userId" = ${userId}::uuid ORDER BY "updatedAt" DESC, "id" DESC LIMIT ${take} OFFSET ${skip}) p ON true`,
  'pg page + count (2 statements)': () => Promise.all([pool.query(PAGE_SQL, [userId, take, skip]), pool.query(COUNT_SQL, [userId])]),
  'pg page + total (1 statement)': () => pool.query(ONE_SQL, [userId, take, skip]),
  'pg named statement (the service)': () => pool.query({ name: 'list-page', text: ONE_SQL, values: [userId, take, skip] }),
};

// CPU of each PostgreSQL process (the postmaster's children serve the queries), by pid.
function postgresCpuMs() {
  const byPid = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') byPid.set(pid, cpuMs(pid));
    } catch {
      /* exited meanwhile */
    }
  }
  return byPid;
}

// Only processes alive at both ends count, so other clients' backends that exit do not subtract.
function postgresCpuSince(before) {
  let ms = 0;
  for (const [pid, now] of postgresCpuMs()) ms += now - (before.get(pid) ?? 0);
  return ms;
}

async function sequential(fn, n = 1000) {
  for (let i = 0; i < 100; i++) await fn();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: (cpu.user + cpu.system) / n, wallUs: ((performance.now() - t0) * 1000) / n };
}

async function inFlight(fn, concurrency = 50) {
  const deadline = performance.now() + secs * 1000;
  let calls = 0;
  const [self0, pg0, t0] = [process.cpuUsage(), postgresCpuMs(), performance.now()];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await fn();
        calls++;
      }
    }),
  );
  const self = process.cpuUsage(self0);
  return { perSec: calls / ((performance.now() - t0) / 1000), selfUs: (self.user + self.system) / calls, pgUs: (postgresCpuSince(pg0) * 1000) / calls };
}

for (let round = 1; round <= 2; round++) {
  console.log(`-- round ${round}`);
  for (const [label, fn] of Object.entries(variants)) {
    const s = await sequential(fn);
    const c = await inFlight(fn);
    console.log(
      `${label.padEnd(46)} sequential ${s.cpuUs.toFixed(0).padStart(4)} µs CPU, ${s.wallUs.toFixed(0).padStart(4)} µs wall | c=50 ${c.perSec.toFixed(0).padStart(5)}/s, ` +
        `CPU per call here ${c.selfUs.toFixed(0).padStart(4)} µs, PostgreSQL ${c.pgUs.toFixed(0).padStart(4)} µs`,
    );
  }
}
await prisma.$disconnect();
await pool.end();
