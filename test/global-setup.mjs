// One PostgreSQL database and one Redis DB index per test run, so concurrent runs (a developer
// and CI on one machine) never see each other's data. Their names reach the tests through env.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const REDIS_LOCK_TTL_S = 3 * 3600;

export default async function globalSetup() {
  const runId = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const adminUrl = new URL(process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/ai_service_test_${runId}`;
  process.env.TEST_DATABASE_URL = databaseUrl.toString();
  execFileSync(process.execPath, ['scripts/db-migrate.mjs', 'deploy'], {
    env: { ...process.env, DATABASE_URL: databaseUrl.toString() },
    stdio: 'pipe',
  });

  const redisBase = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const index = await claimRedisDb(redisBase, runId);
  process.env.TEST_REDIS_URL_FOR_RUN = `${redisBase}/${index}`;
  process.env.TEST_REDIS_DB_INDEX = String(index);
  process.env.TEST_RUN_ID = runId;
}

// Redis DB 0 holds a lock per index 1..15; the first free one is this run's and is flushed.
async function claimRedisDb(base, runId) {
  const Redis = require('ioredis');
  const redis = new Redis(`${base}/0`, { maxRetriesPerRequest: 1 });
  try {
    for (let index = 1; index <= 15; index++) {
      const claimed = await redis.set(`ai-service-test:db-lock:${index}`, runId, 'EX', REDIS_LOCK_TTL_S, 'NX');
      if (claimed) {
        await redis.select(index);
        await redis.flushdb();
        return index;
      }
    }
    throw new Error('no free Redis DB index for tests (15 runs at once?)');
  } finally {
    redis.disconnect();
  }
}
