// Database, Redis and seed data of a bench run. Nothing here touches another run's data:
// its own database (dropped and re-created each run) and its own Redis DB index, claimed with
// the same lock keys the test suite uses (test/global-setup.mjs) so the two never collide.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import pg from 'pg';
import Redis from 'ioredis';

const require = createRequire(import.meta.url);
const jwt = require('jsonwebtoken');

export async function resetDatabase(adminUrl, databaseUrl) {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  // The project's own migration path: creates the database, applies prisma/migrations.
  execFileSync(process.execPath, ['scripts/db-migrate.mjs', 'deploy'], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: 'pipe' });
}

export async function dropDatabase(adminUrl, databaseUrl) {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => admin.end());
}

// Claims a Redis DB index (preferring `preferred`) via the test suite's lock keys in DB 0.
export async function claimRedisDb(base, preferred, owner) {
  const redis = new Redis(`${base}/0`, { maxRetriesPerRequest: 1 });
  try {
    const order = [preferred, ...Array.from({ length: 15 }, (_, i) => 15 - i).filter((i) => i !== preferred)];
    for (const index of order) {
      if (await redis.set(`ai-service-test:db-lock:${index}`, owner, 'EX', 3600, 'NX')) {
        await redis.select(index);
        await redis.flushdb();
        return index;
      }
    }
    throw new Error('no free Redis DB index (1..15 all claimed)');
  } finally {
    redis.disconnect();
  }
}

export async function releaseRedisDb(base, index, owner) {
  const redis = new Redis(`${base}/${index}`, { maxRetriesPerRequest: 1 });
  try {
    await redis.flushdb();
    await redis.select(0);
    if ((await redis.get(`ai-service-test:db-lock:${index}`)) === owner) await redis.del(`ai-service-test:db-lock:${index}`);
  } finally {
    redis.disconnect();
  }
}

// Users inserted with SQL (no bcrypt: nobody logs in) and access tokens signed with the
// service's JWT_SECRET, exactly as TokenService.issuePair signs them.
export async function seedUsers(databaseUrl, count, { secret, tokenLimit, prefix = 'bench' }) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `INSERT INTO "User" (id, email, "passwordHash", "tokenLimit", "updatedAt")
       SELECT gen_random_uuid(), $3 || '-' || g || '@bench.local', 'not-a-hash', $2, now() FROM generate_series(1, $1) g
       RETURNING id, email`,
      [count, tokenLimit, prefix],
    );
    const seq = (email) => Number(email.slice(prefix.length + 1).split('@')[0]);
    rows.sort((a, b) => seq(a.email) - seq(b.email));
    return rows.map((u) => ({ ...u, token: jwt.sign({ sub: u.id, email: u.email, typ: 'access' }, secret, { algorithm: 'HS256', expiresIn: '3h' }) }));
  } finally {
    await client.end();
  }
}

// One user with `conversations` conversations of `perConversation` messages each, with
// denormalised counters filled in as the service keeps them; ANALYZE so plans are realistic.
export async function seedListUser(databaseUrl, { secret, tokenLimit, conversations, perConversation }) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const id = randomUUID();
    const email = 'bench-list@bench.local';
    await client.query(`INSERT INTO "User" (id, email, "passwordHash", "tokenLimit", "updatedAt") VALUES ($1, $2, 'not-a-hash', $3, now())`, [id, email, tokenLimit]);
    await client.query(
      `INSERT INTO "Conversation" (id, "userId", title, "messageCount", "totalTokens", "createdAt", "updatedAt")
       SELECT gen_random_uuid(), $1, 'Conversation number ' || g, $3, $3 * 25,
              now() - interval '1 minute' * ($2 - g) - interval '1 day', now() - interval '1 minute' * ($2 - g)
       FROM generate_series(1, $2) g`,
      [id, conversations, perConversation],
    );
    await client.query(
      `INSERT INTO "Message" (id, "conversationId", role, content, tokens, model, status, "createdAt")
       SELECT gen_random_uuid(), c.id,
              CASE WHEN m % 2 = 1 THEN 'USER'::"Role" ELSE 'ASSISTANT'::"Role" END,
              'Message ' || m || ' of a seeded conversation, about as long as a short chat line.',
              25, CASE WHEN m % 2 = 0 THEN 'gpt-4o-mini' END, 'complete', c."createdAt" + interval '1 second' * m
       FROM "Conversation" c CROSS JOIN generate_series(1, $2) m WHERE c."userId" = $1`,
      [id, perConversation],
    );
    await client.query('ANALYZE');
    const token = jwt.sign({ sub: id, email, typ: 'access' }, secret, { algorithm: 'HS256', expiresIn: '3h' });
    return { id, email, token };
  } finally {
    await client.end();
  }
}
