import { randomBytes } from 'node:crypto';

export const TEST_JWT_SECRET = 'test-jwt-secret-that-is-long-enough';
export const TEST_OPENAI_KEY = 'sk-test-secret-key-0123456789';

// Settings for an app under test: this run's database and Redis DB, fast hashing, quiet logs,
// and a Redis prefix of its own so rate-limit counters never leak between test files.
export function baseTestEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: required('TEST_DATABASE_URL'),
    REDIS_URL: required('TEST_REDIS_URL_FOR_RUN'),
    REDIS_PREFIX: `t${randomBytes(4).toString('hex')}`,
    JWT_SECRET: TEST_JWT_SECRET,
    BCRYPT_ROUNDS: '4',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LOG_PRETTY: 'false',
    AUTH_RATE_LIMIT: '1000',
    OPENAI_API_KEY: TEST_OPENAI_KEY,
    OPENAI_MAX_RETRIES: '0',
    OPENAI_TIMEOUT_MS: '5000',
    SHUTDOWN_GRACE_MS: '2000',
    ...overrides,
  };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (global setup creates it)`);
  return value;
}
