// Figure 10: usage analytics read from the daily rollup.
//   - GET /ai/usage/daily over 90 days for a user with 1,000,000 messages (500,000 counted answers
//     in the ledger, rolled up per day and model as the service does);
//   - GET /admin/usage?groupBy=user over 10,000 users with usage on most of the 30 days.
// Everything is seeded with SQL (generate_series), not through the API. autocannon: c=4 for the
// user's route; c=1 for the admin's (a page a few admins open, not a hot path).
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { freePort, log, stopProcess } from '../lib/children.mjs';
import { check, f1, missBy } from '../lib/format.mjs';
import { autocannon, medianOf } from '../lib/load.mjs';
import { cpuMs } from '../lib/proc.mjs';
import { startService } from '../lib/services.mjs';
import { sum } from '../lib/stats.mjs';

const require = createRequire(import.meta.url);
const jwt = require('jsonwebtoken');

const DAILY_TARGET_MS = 20;
const ADMIN_TARGET_MS = 100;
const DAILY_CONNECTIONS = 4;
const ADMIN_CONNECTIONS = 1;
const MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4-20250514', 'text-embedding-3-small'];
const isoDay = (daysAgo) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

// The heavy user: 1,000 conversations × 1,000 messages over the last 90 days, every answer in the
// ledger, and the rollup built from the ledger exactly as the migration's backfill builds it.
async function seedHeavyUser(client, token) {
  const { rows } = await client.query(
    `INSERT INTO "User" (id, email, "passwordHash", "tokenLimit", "updatedAt") VALUES (gen_random_uuid(), 'bench-usage@bench.local', 'not-a-hash', 2000000000, now()) RETURNING id`,
  );
  const userId = rows[0].id;
  await client.query(
    `INSERT INTO "Conversation" (id, "userId", title, "messageCount", "totalTokens", "createdAt", "updatedAt")
     SELECT gen_random_uuid(), $1, 'Usage conversation ' || g, 1000, 25000, now() - interval '90 days' + interval '2 hours' * g, now()
     FROM generate_series(1, 1000) g`,
    [userId],
  );
  await client.query(
    `INSERT INTO "Message" (id, "conversationId", role, content, tokens, model, status, "createdAt")
     SELECT gen_random_uuid(), c.id, CASE WHEN m % 2 = 1 THEN 'USER'::"Role" ELSE 'ASSISTANT'::"Role" END,
            'Message ' || m, CASE WHEN m % 2 = 0 THEN 25 END, CASE WHEN m % 2 = 0 THEN (ARRAY[$2, $3, $4])[1 + m % 3] END, 'complete',
            now() - interval '89 days' * ((m * 7919) % 1000) / 1000.0
     FROM "Conversation" c CROSS JOIN generate_series(1, 1000) m WHERE c."userId" = $1`,
    [userId, ...MODELS.slice(0, 3)],
  );
  await client.query(
    `INSERT INTO "UsageRecord" (id, "userId", kind, model, "promptTokens", "completionTokens", tokens, "costUsd", "createdAt")
     SELECT m.id, $1, 'chat', m.model, 15, 10, 25, 0.00001, m."createdAt"
     FROM "Message" m JOIN "Conversation" c ON c.id = m."conversationId" WHERE c."userId" = $1 AND m.role = 'ASSISTANT'`,
    [userId],
  );
  await client.query(
    `INSERT INTO "UsageDaily" ("userId", day, model, requests, "promptTokens", "completionTokens", "totalTokens", "costUsd")
     SELECT "userId", ("createdAt" AT TIME ZONE 'UTC')::date, model, count(*), sum("promptTokens"), sum("completionTokens"), sum(tokens), sum("costUsd")
     FROM "UsageRecord" WHERE "userId" = $1 GROUP BY 1, 2, 3`,
    [userId],
  );
  return { id: userId, token: token(userId, 'bench-usage@bench.local') };
}

// 10,000 users, each with usage on about two days in three of the last 30, one or two models a day.
async function seedManyUsers(client, token) {
  await client.query(
    `INSERT INTO "User" (id, email, "passwordHash", "tokenLimit", "updatedAt")
     SELECT gen_random_uuid(), 'bench-usage-' || g || '@bench.local', 'not-a-hash', 2000000000, now() FROM generate_series(1, 10000) g`,
  );
  await client.query(
    `INSERT INTO "UsageDaily" ("userId", day, model, requests, "promptTokens", "completionTokens", "totalTokens", "costUsd")
     SELECT u.id, (now() AT TIME ZONE 'UTC')::date - d, (ARRAY[$1, $2, $3, $4])[1 + k], 1 + (hashtext(u.id::text || d || k) & 31),
            100 + (hashtext(u.id::text || d) & 1023), 50, 150 + (hashtext(u.id::text || d) & 1023), 0.0001
     FROM "User" u CROSS JOIN generate_series(0, 29) d CROSS JOIN generate_series(0, 1) k
     WHERE u.email LIKE 'bench-usage-%' AND (hashtext(u.id::text || d) & 3) <> 0 AND (k = 0 OR (hashtext(u.id::text || d || 'm') & 1) = 0)`,
    MODELS,
  );
  const { rows } = await client.query(
    `INSERT INTO "User" (id, email, "passwordHash", "tokenLimit", role, "updatedAt") VALUES (gen_random_uuid(), 'bench-admin@bench.local', 'not-a-hash', 1, 'admin', now()) RETURNING id`,
  );
  return { id: rows[0].id, token: token(rows[0].id, 'bench-admin@bench.local') };
}

function measure(ctx, service, name, url, authToken, connections) {
  const { sizes } = ctx.opts;
  autocannon(url, authToken, sizes.listWarm, connections);
  const rounds = [];
  for (let r = 0; r < sizes.listRounds; r++) {
    const cpu0 = cpuMs(service.pid);
    const res = autocannon(url, authToken, sizes.listSecs, connections);
    res.cpuMsPerReq = (cpuMs(service.pid) - cpu0) / Math.max(1, res.total);
    rounds.push(res);
    log(`fig 10 ${name} round ${r + 1}: ${Math.round(res.rps)} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, non-2xx ${res.non2xx}, errors ${res.errors}`);
  }
  return {
    rps: medianOf(rounds, 'rps'),
    p50: medianOf(rounds, 'p50'),
    p99: medianOf(rounds, 'p99'),
    failed: sum(rounds.map((r) => r.non2xx + r.errors)),
    cpuMsPerReq: medianOf(rounds, 'cpuMsPerReq'),
    rounds,
  };
}

export async function figureUsage(ctx) {
  const { opts } = ctx;
  const token = (sub, email) => jwt.sign({ sub, email, typ: 'access' }, opts.jwtSecret, { algorithm: 'HS256', expiresIn: '3h' });
  const client = new pg.Client({ connectionString: opts.databaseUrl });
  await client.connect();
  let heavy;
  let admin;
  const ts = performance.now();
  try {
    heavy = await seedHeavyUser(client, token);
    admin = await seedManyUsers(client, token);
    await client.query('ANALYZE');
    const counts = (await client.query(`SELECT (SELECT count(*) FROM "Message")::int AS messages, (SELECT count(*) FROM "UsageDaily")::int AS daily`)).rows[0];
    log(`fig 10: seeded ${counts.messages} messages and ${counts.daily} daily rollup rows (${((performance.now() - ts) / 1000).toFixed(1)} s)`);
  } finally {
    await client.end();
  }
  const service = await startService(ctx, 'usage', { port: await freePort(), fakeUrl: ctx.fake.url });
  try {
    const dailyUrl = `${service.base}/api/v1/ai/usage/daily?from=${isoDay(89)}&to=${isoDay(0)}`;
    const daily = await fetch(dailyUrl, { headers: { authorization: `Bearer ${heavy.token}` } }).then((r) => r.json());
    const answers = (daily.days ?? []).reduce((n, row) => n + row.requests, 0);
    if (answers !== 500_000) throw new Error(`fig 10: /usage/daily counted ${answers} answers, expected 500,000: ${JSON.stringify(daily).slice(0, 300)}`);
    const adminUrl = `${service.base}/api/v1/admin/usage?groupBy=user&limit=100`;
    const overview = await fetch(adminUrl, { headers: { authorization: `Bearer ${admin.token}` } }).then((r) => r.json());
    if (overview.groups?.length !== 100 || !(overview.totals?.requests > 0))
      throw new Error(`fig 10: unexpected /admin/usage answer: ${JSON.stringify(overview).slice(0, 300)}`);
    ctx.results.figures.usage = {
      dailyRows: daily.days.length,
      daily: measure(ctx, service, '/usage/daily', dailyUrl, heavy.token, DAILY_CONNECTIONS),
      admin: measure(ctx, service, '/admin/usage?groupBy=user', adminUrl, admin.token, ADMIN_CONNECTIONS),
    };
  } finally {
    await stopProcess(service.child);
  }
}

export function usageRows(F, add) {
  if (!F.usage) return;
  const { daily, admin, dailyRows } = F.usage;
  add(
    '10 GET /ai/usage/daily, 90 days, 1M messages, c=4',
    'latency p50 / p99',
    `${f1(daily.p50)} / ${f1(daily.p99)} ms`,
    `p99 ≤ ${DAILY_TARGET_MS} ms`,
    check(daily.p99, '<=', DAILY_TARGET_MS) + missBy(daily.p99, DAILY_TARGET_MS),
  );
  add(
    '10 GET /ai/usage/daily, 90 days, 1M messages, c=4',
    'throughput; rows; failed',
    `${Math.round(daily.rps)} req/s; ${dailyRows} rows; ${daily.failed}`,
    '0 failed',
    daily.failed === 0 ? '✅' : '❌',
  );
  add(
    '10 GET /admin/usage?groupBy=user, 10,000 users, c=1',
    'latency p50 / p99',
    `${f1(admin.p50)} / ${f1(admin.p99)} ms`,
    `p99 ≤ ${ADMIN_TARGET_MS} ms`,
    check(admin.p99, '<=', ADMIN_TARGET_MS) + missBy(admin.p99, ADMIN_TARGET_MS),
  );
  add(
    '10 GET /admin/usage?groupBy=user, 10,000 users, c=1',
    'throughput; failed',
    `${Math.round(admin.rps)} req/s; ${admin.failed}`,
    '0 failed',
    admin.failed === 0 ? '✅' : '❌',
  );
}

export function usageDetails(F) {
  if (!F.usage) return '';
  const line = (name, r) =>
    r.rounds
      .map((x, i) => `- ${name} round ${i + 1}: ${Math.round(x.rps)} req/s, p50 ${x.p50} ms, p99 ${x.p99} ms, service CPU ${f1(x.cpuMsPerReq, 3)} ms/request`)
      .join('\n');
  return `### Usage analytics rounds\n\n${line('/usage/daily', F.usage.daily)}\n${line('/admin/usage', F.usage.admin)}\n`;
}
