import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

const ROOT = join(__dirname, '..', '..');

export interface ScratchDb {
  url: string;
  // Runs `npm run db:migrate` (scripts/db-migrate.mjs deploy) on it again.
  migrate(env?: Record<string, string>): void;
  query<T extends pg.QueryResultRow>(sql: string): Promise<T[]>;
  drop(): Promise<void>;
}

// A database of its own beside the run's, migrated like any, for a test that changes what the
// shared one must keep (e.g. dropping pgvector). Dropped with drop().
export function createScratchDb(label: string): ScratchDb {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${url.pathname.slice(1)}_${label}_${randomBytes(3).toString('hex')}`;
  const scratch: ScratchDb = {
    url: url.toString(),
    migrate: (env = {}) => {
      execFileSync(process.execPath, ['scripts/db-migrate.mjs', 'deploy'], { cwd: ROOT, env: { ...process.env, ...env, DATABASE_URL: url.toString() }, stdio: 'pipe' });
    },
    query: async <T extends pg.QueryResultRow>(sql: string) => {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        return (await client.query<T>(sql)).rows;
      } finally {
        await client.end();
      }
    },
    drop: async () => {
      const admin = new pg.Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
  scratch.migrate();
  return scratch;
}
