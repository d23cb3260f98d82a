import 'reflect-metadata';
import { Transform, plainToInstance } from 'class-transformer';
import { isEmail, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, validateSync } from 'class-validator';
import { randomBytes } from 'node:crypto';

const DURATION = /^\d+(ms|s|m|h|d)?$/;
// Reads the raw string: implicit conversion would already have turned "false" into true.
const toBoolean = ({ obj, key }: { obj: Record<string, unknown>; key: string }) => {
  const raw = obj[key];
  return typeof raw === 'string' ? ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase()) : raw;
};

export const MODERATION_MODES = ['off', 'flag', 'block'] as const;
export type ModerationMode = (typeof MODERATION_MODES)[number];

export const PROCESS_ROLES = ['all', 'api', 'worker'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

// Every variable the service reads, with its rule and default. Values arrive as strings and are
// converted by `enableImplicitConversion`; a default applies when a variable is unset or empty.
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 8000;

  @IsIn(PROCESS_ROLES)
  PROCESS_ROLE: ProcessRole = 'all';

  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false })
  DATABASE_URL: string = 'postgresql://postgres@127.0.0.1:5432/ai_service';

  @IsUrl({ protocols: ['redis', 'rediss'], require_tld: false })
  REDIS_URL: string = 'redis://127.0.0.1:6379';

  // Namespaces Bull queues, throttler keys and Socket.IO channels, so that several deployments
  // (or test runs) can share one Redis server.
  @Matches(/^[a-zA-Z0-9_:-]{1,40}$/)
  REDIS_PREFIX: string = 'ai-service';

  @IsOptional()
  @IsString()
  @MinLength(16)
  JWT_SECRET?: string;

  @Matches(DURATION)
  JWT_EXPIRES_IN: string = '15m';

  @Matches(DURATION)
  JWT_REFRESH_EXPIRES_IN: string = '7d';

  // bcrypt cost factor for password hashes (each step doubles the work).
  @IsInt()
  @Min(4)
  @Max(15)
  BCRYPT_ROUNDS: number = 12;

  @IsOptional()
  @IsString()
  OPENAI_API_KEY?: string;

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  OPENAI_BASE_URL?: string;

  @IsOptional()
  @IsString()
  OPENAI_ORG_ID?: string;

  // Anthropic and Gemini, each on when it has a key or a base URL (a compatible server or a fake).
  @IsOptional()
  @IsString()
  ANTHROPIC_API_KEY?: string;

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  ANTHROPIC_BASE_URL?: string;

  @IsOptional()
  @IsString()
  GEMINI_API_KEY?: string;

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  GEMINI_BASE_URL?: string;

  // The models clients may ask for (JSON or YAML, see docs/providers.md); without it, the default registry.
  @IsOptional()
  @IsString()
  AI_MODELS_FILE?: string;

  @IsString()
  @MinLength(1)
  OPENAI_MODEL: string = 'gpt-4';

  @IsString()
  @MinLength(1)
  OPENAI_EMBEDDING_MODEL: string = 'text-embedding-3-small';

  @IsInt()
  @Min(1)
  OPENAI_MAX_TOKENS: number = 4096;

  @IsNumber()
  @Min(0)
  @Max(2)
  OPENAI_TEMPERATURE: number = 0.7;

  @IsInt()
  @Min(100)
  OPENAI_TIMEOUT_MS: number = 60_000;

  @IsInt()
  @Min(0)
  @Max(10)
  OPENAI_MAX_RETRIES: number = 2;

  @IsOptional()
  @IsString()
  AI_SYSTEM_PROMPT?: string;

  @IsInt()
  @Min(0)
  @Max(1000)
  AI_HISTORY_LIMIT: number = 10;

  // After the first answer of a conversation a turn created, a background job asks the default
  // model for a short title (its tokens count as usage); off keeps the first message as the title.
  @IsBoolean()
  @Transform(toBoolean)
  AI_AUTO_TITLE: boolean = false;

  // Content moderation of user input through OpenAI's moderation endpoint: `flag` stores the
  // verdict on the message and goes on, `block` refuses flagged input with a 400.
  @IsIn(MODERATION_MODES)
  AI_MODERATION: ModerationMode = 'off';

  @IsString()
  @MinLength(1)
  AI_MODERATION_MODEL: string = 'omni-moderation-latest';

  // Also check each finished answer and store the verdict on it (never blocks it).
  @IsBoolean()
  @Transform(toBoolean)
  AI_MODERATION_OUTPUT: boolean = false;

  // A check that takes longer counts as a failure: 503 in `block` mode, logged and skipped in `flag`.
  @IsInt()
  @Min(100)
  AI_MODERATION_TIMEOUT_MS: number = 5_000;

  @IsInt()
  @Min(1)
  @Max(1_000_000)
  AI_MAX_MESSAGE_LENGTH: number = 32_000;

  @IsInt()
  @Min(0)
  USER_TOKEN_LIMIT: number = 1_000_000;

  // Comma-separated e-mails whose accounts become admins at register and at login.
  @IsOptional()
  @IsString()
  ADMIN_EMAILS?: string;

  @IsInt()
  @Min(1)
  AI_RATE_LIMIT: number = 20;

  @IsInt()
  @Min(1)
  AI_RATE_TTL_MS: number = 60_000;

  @IsInt()
  @Min(1)
  AUTH_RATE_LIMIT: number = 10;

  @IsInt()
  @Min(1)
  AUTH_RATE_TTL_MS: number = 60_000;

  @IsInt()
  @Min(1)
  @Max(100)
  AI_QUEUE_CONCURRENCY: number = 5;

  // First retry delay of a failed AI job; Bull doubles it for each further attempt (exponential
  // back-off). Tests set it low to exercise retries quickly.
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  AI_JOB_BACKOFF_MS: number = 2_000;

  // Knowledge (docs/knowledge.md). The largest document upload, in bytes: a bigger one is cut off
  // at this size and refused with 413.
  @IsInt()
  @Min(1)
  @Max(1_073_741_824)
  DOCUMENT_MAX_BYTES: number = 10 * 1024 * 1024;

  // About how many tokens (o200k) one chunk of a document holds, and how many of them the next
  // chunk repeats so that a passage cut at a boundary is still found whole in one of the two.
  @IsInt()
  @Min(50)
  @Max(8_000)
  RAG_CHUNK_TOKENS: number = 500;

  @IsInt()
  @Min(0)
  @Max(4_000)
  RAG_CHUNK_OVERLAP_TOKENS: number = 50;

  // The length of the stored vectors, sent upstream as `dimensions` (text-embedding-3 models
  // shorten theirs to it). Must match the `embedding` column; 2000 is HNSW's limit for `vector`.
  @IsInt()
  @Min(1)
  @Max(2_000)
  RAG_EMBEDDING_DIMENSIONS: number = 1536;

  // Chunks per embedding request (OpenAI accepts up to 2048 inputs and 300k tokens per request).
  @IsInt()
  @Min(1)
  @Max(2_048)
  RAG_EMBEDDING_BATCH_SIZE: number = 64;

  // pgvector's hnsw.ef_search for searches: candidates the index keeps per scan (recall vs speed).
  @IsInt()
  @Min(1)
  @Max(1_000)
  RAG_HNSW_EF_SEARCH: number = 40;

  @IsString()
  @MinLength(1)
  CORS_ORIGIN: string = 'http://localhost:5173';

  @Matches(/^\d+(b|kb|mb)?$/i)
  BODY_LIMIT: string = '1mb';

  // Largest Socket.IO message accepted; bigger ones are dropped by the server.
  @IsInt()
  @Min(1024)
  WS_MAX_HTTP_BUFFER_SIZE: number = 1_000_000;

  @IsOptional()
  @IsString()
  BULL_BOARD_USER?: string;

  @IsOptional()
  @IsString()
  BULL_BOARD_PASSWORD?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  @IsOptional()
  @IsString()
  LOG_DIR?: string;

  @IsOptional()
  @IsBoolean()
  @Transform(toBoolean)
  LOG_PRETTY?: boolean;

  @IsOptional()
  @IsUrl({ require_tld: false })
  SENTRY_DSN?: string;

  @IsInt()
  @Min(0)
  SHUTDOWN_GRACE_MS: number = 10_000;

  // How long a stream stays resumable after it ends (its log and terminal event are kept in Redis).
  @IsInt()
  @Min(1_000)
  AI_STREAM_RETENTION_MS: number = 300_000;

  // Comment lines sent on an idle Server-Sent Events response, so proxies do not close it.
  @IsInt()
  @Min(100)
  AI_SSE_HEARTBEAT_MS: number = 15_000;
}

// Which halves of the service a process runs: `api` serves HTTP and the socket gateway and only
// enqueues jobs; `worker` processes jobs and serves health and metrics only; `all` does both.
export const runsApiRole = (role: ProcessRole): boolean => role !== 'worker';
export const runsWorkerRole = (role: ProcessRole): boolean => role !== 'api';

// ADMIN_EMAILS as the lower-case addresses it lists (accounts are stored lower-case).
export const adminEmailsOf = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(',')
    .map((email) => email.trim().toLowerCase())
    .filter(Boolean);

export type Env = Omit<EnvironmentVariables, 'JWT_SECRET'> & {
  JWT_SECRET: string;
  // True when no JWT_SECRET was given and a random per-process one is used (development only).
  JWT_SECRET_GENERATED: boolean;
};

export class ConfigValidationError extends Error {}

// Returns the validated configuration, or throws one line naming the first bad variable.
export function validateEnv(raw: Record<string, string | undefined>): Env {
  const defined = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''));
  const env = plainToInstance(EnvironmentVariables, defined, { enableImplicitConversion: true });
  const [error] = validateSync(env, { whitelist: false, skipMissingProperties: false });
  if (error) {
    const rule = Object.values(error.constraints ?? {})[0] ?? 'is invalid';
    throw new ConfigValidationError(`Invalid environment variable ${error.property}: ${rule}`);
  }
  if (!env.JWT_SECRET) {
    if (env.NODE_ENV === 'production') {
      throw new ConfigValidationError('Invalid environment variable JWT_SECRET: required when NODE_ENV=production');
    }
  }
  // Moderation is OpenAI's endpoint whichever provider answers the chat.
  if ((env.AI_MODERATION !== 'off' || env.AI_MODERATION_OUTPUT) && !env.OPENAI_API_KEY && !env.OPENAI_BASE_URL) {
    const variable = env.AI_MODERATION !== 'off' ? 'AI_MODERATION' : 'AI_MODERATION_OUTPUT';
    throw new ConfigValidationError(`Invalid environment variable ${variable}: moderation uses OpenAI's endpoint; set OPENAI_API_KEY or OPENAI_BASE_URL`);
  }
  const badAdminEmail = adminEmailsOf(env.ADMIN_EMAILS).find((email) => !isEmail(email));
  if (badAdminEmail !== undefined) {
    throw new ConfigValidationError(`Invalid environment variable ADMIN_EMAILS: "${badAdminEmail}" is not an e-mail address`);
  }
  if (env.RAG_CHUNK_OVERLAP_TOKENS >= env.RAG_CHUNK_TOKENS) {
    throw new ConfigValidationError('Invalid environment variable RAG_CHUNK_OVERLAP_TOKENS: must be less than RAG_CHUNK_TOKENS');
  }
  if (Boolean(env.BULL_BOARD_USER) !== Boolean(env.BULL_BOARD_PASSWORD)) {
    throw new ConfigValidationError('Invalid environment variable BULL_BOARD_PASSWORD: BULL_BOARD_USER and BULL_BOARD_PASSWORD must be set together');
  }
  return {
    ...env,
    JWT_SECRET: env.JWT_SECRET ?? randomBytes(32).toString('hex'),
    JWT_SECRET_GENERATED: !env.JWT_SECRET,
  };
}
