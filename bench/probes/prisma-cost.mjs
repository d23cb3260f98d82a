// Probe: CPU per statement through Prisma 7's client (query compiler + @prisma/adapter-pg) vs the
// same SQL through pg as a named prepared statement (what PrismaService.queryPrepared sends for the
// statements on every turn's path), on the bench database (after `npm run bench -- --keep-db`),
// sequentially: which statements are worth moving off the query builder.
//   node bench/probes/prisma-cost.mjs [postgresql://postgres@127.0.0.1:5432/ai_service_bench]
import { createRequire } from 'node:module';
import pg from 'pg';
const require = createRequire(import.meta.url);
const url = process.argv[2] ?? 'postgresql://postgres@127.0.0.1:5432/ai_service_bench';
const { PrismaClient } = require('../../dist/generated/prisma/client.js');
const { PrismaPg } = require('@prisma/adapter-pg');
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 4 }) });
const pool = new pg.Pool({ connectionString: url, max: 4 });
const user = await prisma.user.findFirst({ select: { id: true } });
const conv = await prisma.conversation.findFirst({ where: { userId: { not: user.id } }, select: { id: true, userId: true } });

// A named statement: parsed and planned once per connection, as PrismaService.queryPrepared runs them.
const named = (name, text, values) => pool.query({ name, text, values });

async function bench(label, fn, n = 2000) {
  for (let i = 0; i < 200; i++) await fn();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `${label.padEnd(58)} ${((cpu.user + cpu.system) / n).toFixed(0).padStart(5)} µs CPU, ${(((performance.now() - t0) * 1000) / n).toFixed(0).padStart(5)} µs wall per call`,
  );
}
for (let round = 0; round < 2; round++) {
  console.log(`-- round ${round + 1}`);
  await bench('prisma user.findUnique (budget select)', () => prisma.user.findUnique({ where: { id: user.id }, select: { totalTokensUsed: true, tokenLimit: true } }));
  await bench('pg     SELECT budget', () => named('budget', 'SELECT "totalTokensUsed", "tokenLimit" FROM "User" WHERE id = $1', [user.id]));
  await bench('prisma message.findMany (history, 10, relation filter)', () =>
    prisma.message.findMany({ where: { conversationId: conv.id, conversation: { userId: conv.userId } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 10 }),
  );
  await bench('pg     SELECT history (10)', () =>
    named(
      'history',
      'SELECT m.* FROM "Message" m JOIN "Conversation" c ON c.id = m."conversationId" WHERE m."conversationId" = $1 AND c."userId" = $2 ORDER BY m."createdAt" DESC, m.id DESC LIMIT 10',
      [conv.id, conv.userId],
    ),
  );
  await bench('prisma conversation.findMany page (20) ', () =>
    prisma.conversation.findMany({ where: { userId: conv.userId }, orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }], skip: 0, take: 20 }),
  );
  await bench(
    'prisma $transaction(update conversation + update user)',
    () =>
      prisma.$transaction(async (tx) => {
        await tx.conversation.update({ where: { id: conv.id }, data: { totalTokens: { increment: 0 } }, select: { id: true } });
        await tx.user.update({ where: { id: user.id }, data: { totalTokensUsed: { increment: 0 } }, select: { id: true } });
      }),
    1000,
  );
  await bench(
    'pg     one statement: CTE updating both',
    () =>
      named(
        'counters',
        'WITH c AS (UPDATE "Conversation" SET "totalTokens" = "totalTokens" + 0 WHERE id = $1 RETURNING id) UPDATE "User" SET "totalTokensUsed" = "totalTokensUsed" + 0 WHERE id = $2',
        [conv.id, user.id],
      ),
    1000,
  );
}
await prisma.$disconnect();
await pool.end();
