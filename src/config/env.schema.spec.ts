import { adminEmailsOf, validateEnv } from './env.schema';

describe(validateEnv.name, () => {
  it('fills every default from an empty environment (development)', () => {
    const env = validateEnv({});
    expect(env).toMatchObject({
      NODE_ENV: 'development',
      PORT: 8000,
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/ai_service',
      REDIS_URL: 'redis://127.0.0.1:6379',
      JWT_EXPIRES_IN: '15m',
      JWT_REFRESH_EXPIRES_IN: '7d',
      OPENAI_MODEL: 'gpt-4',
      OPENAI_EMBEDDING_MODEL: 'text-embedding-3-small',
      OPENAI_MAX_TOKENS: 4096,
      OPENAI_TEMPERATURE: 0.7,
      OPENAI_TIMEOUT_MS: 60000,
      AI_HISTORY_LIMIT: 10,
      AI_AUTO_TITLE: false,
      AI_MAX_MESSAGE_LENGTH: 32000,
      USER_TOKEN_LIMIT: 1000000,
      AI_RATE_LIMIT: 20,
      AI_RATE_TTL_MS: 60000,
      CORS_ORIGIN: 'http://localhost:5173',
      PROCESS_ROLE: 'all',
      AI_QUEUE_CONCURRENCY: 5,
      AI_MODERATION: 'off',
      AI_MODERATION_MODEL: 'omni-moderation-latest',
      AI_MODERATION_OUTPUT: false,
      AI_MODERATION_TIMEOUT_MS: 5000,
      DOCUMENT_MAX_BYTES: 10 * 1024 * 1024,
      RAG_CHUNK_TOKENS: 500,
      RAG_CHUNK_OVERLAP_TOKENS: 50,
      RAG_EMBEDDING_DIMENSIONS: 1536,
      RAG_EMBEDDING_BATCH_SIZE: 64,
      RAG_HNSW_EF_SEARCH: 40,
      AI_STREAM_RETENTION_MS: 300000,
      AI_SSE_HEARTBEAT_MS: 15000,
    });
    expect(env.OPENAI_API_KEY).toBeUndefined();
    expect(env.BULL_BOARD_USER).toBeUndefined();
  });

  it('generates a per-process JWT secret in development and says so', () => {
    const first = validateEnv({});
    const second = validateEnv({});
    expect(first.JWT_SECRET_GENERATED).toBe(true);
    expect(first.JWT_SECRET).toHaveLength(64);
    expect(first.JWT_SECRET).not.toBe(second.JWT_SECRET);
  });

  it('refuses production without JWT_SECRET, naming the variable in one line', () => {
    expect(() => validateEnv({ NODE_ENV: 'production' })).toThrow('Invalid environment variable JWT_SECRET: required when NODE_ENV=production');
  });

  it('converts numbers and treats empty values as unset', () => {
    const env = validateEnv({ PORT: '9000', OPENAI_TEMPERATURE: '0.2', OPENAI_API_KEY: '', JWT_SECRET: 'x'.repeat(32) });
    expect(env.PORT).toBe(9000);
    expect(env.OPENAI_TEMPERATURE).toBe(0.2);
    expect(env.OPENAI_API_KEY).toBeUndefined();
    expect(env.JWT_SECRET_GENERATED).toBe(false);
  });

  it('reads LOG_PRETTY=false as false', () => {
    expect(validateEnv({ LOG_PRETTY: 'false' }).LOG_PRETTY).toBe(false);
    expect(validateEnv({ LOG_PRETTY: 'true' }).LOG_PRETTY).toBe(true);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'not a url'],
    ['OPENAI_TEMPERATURE', '3'],
    ['AI_RATE_LIMIT', '0'],
    ['NODE_ENV', 'staging'],
    ['PROCESS_ROLE', 'both'],
    ['JWT_SECRET', 'short'],
    ['JWT_EXPIRES_IN', 'soon'],
    ['RAG_EMBEDDING_DIMENSIONS', '2001'],
    ['RAG_CHUNK_TOKENS', '10'],
    ['DOCUMENT_MAX_BYTES', '0'],
  ])('names %s when it is %p', (name, value) => {
    expect(() => validateEnv({ [name]: value })).toThrow(new RegExp(`^Invalid environment variable ${name}: `));
  });

  it('requires a chunk overlap smaller than the chunk', () => {
    expect(() => validateEnv({ RAG_CHUNK_TOKENS: '100', RAG_CHUNK_OVERLAP_TOKENS: '100' })).toThrow(
      'Invalid environment variable RAG_CHUNK_OVERLAP_TOKENS: must be less than RAG_CHUNK_TOKENS',
    );
  });

  it('reads AI_AUTO_TITLE as a boolean, off by default', () => {
    expect(validateEnv({ AI_AUTO_TITLE: 'true' }).AI_AUTO_TITLE).toBe(true);
    expect(validateEnv({ AI_AUTO_TITLE: 'on' }).AI_AUTO_TITLE).toBe(true);
    expect(validateEnv({ AI_AUTO_TITLE: 'false' }).AI_AUTO_TITLE).toBe(false);
    expect(validateEnv({}).AI_AUTO_TITLE).toBe(false);
  });

  it('requires the dashboard user and password together', () => {
    expect(() => validateEnv({ BULL_BOARD_USER: 'ops' })).toThrow(/BULL_BOARD_PASSWORD/);
    expect(validateEnv({ BULL_BOARD_USER: 'ops', BULL_BOARD_PASSWORD: 'pw' }).BULL_BOARD_USER).toBe('ops');
  });

  it('turns moderation on only with an OpenAI endpoint to send it to', () => {
    expect(() => validateEnv({ AI_MODERATION: 'flag' })).toThrow(/^Invalid environment variable AI_MODERATION: moderation uses OpenAI's endpoint/);
    expect(() => validateEnv({ AI_MODERATION_OUTPUT: 'true' })).toThrow(/^Invalid environment variable AI_MODERATION_OUTPUT: /);
    expect(() => validateEnv({ AI_MODERATION: 'strict', OPENAI_API_KEY: 'sk-x' })).toThrow(/^Invalid environment variable AI_MODERATION: /);
    expect(validateEnv({ AI_MODERATION: 'block', OPENAI_BASE_URL: 'http://127.0.0.1:8001/v1', AI_MODERATION_OUTPUT: 'false' })).toMatchObject({
      AI_MODERATION: 'block',
      AI_MODERATION_OUTPUT: false,
    });
  });

  it('reads ADMIN_EMAILS as trimmed lower-case addresses and names a bad one', () => {
    expect(adminEmailsOf(validateEnv({ ADMIN_EMAILS: ' Ada@Example.com ,bob@example.com,' }).ADMIN_EMAILS)).toEqual(['ada@example.com', 'bob@example.com']);
    expect(adminEmailsOf(validateEnv({}).ADMIN_EMAILS)).toEqual([]);
    expect(() => validateEnv({ ADMIN_EMAILS: 'ada@example.com,not-an-email' })).toThrow(
      'Invalid environment variable ADMIN_EMAILS: "not-an-email" is not an e-mail address',
    );
  });
});
