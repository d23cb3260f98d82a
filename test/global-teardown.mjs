import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export default async function globalTeardown() {
  const pg = require('pg');
  const url = new URL(process.env.TEST_DATABASE_URL);
  const database = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();

  const Redis = require('ioredis');
  const base = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const index = process.env.TEST_REDIS_DB_INDEX;
  const redis = new Redis(`${base}/${index}`, { maxRetriesPerRequest: 1 });
  await redis.flushdb();
  await redis.select(0);
  await redis.del(`ai-service-test:db-lock:${index}`);
  redis.disconnect();
}
