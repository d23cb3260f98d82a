import { existsSync } from 'node:fs';
import { ConfigValidationError, Env, validateEnv } from './env.schema';

// Reads `.env` when present (real environment variables win), validates, and on a bad value
// prints one line naming the variable and exits with 1.
export function loadEnvOrExit(overrides: Record<string, string | undefined> = {}): Env {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return validateEnv({ ...process.env, ...overrides });
  } catch (error) {
    return exitOnInvalidConfig(error);
  }
}

// For settings checked while the app starts (the models file): the same one line and exit 1.
export function exitOnInvalidConfig(error: unknown): never {
  if (!(error instanceof ConfigValidationError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
