import { join } from 'node:path';
import pino, { DestinationStream, Logger, StreamEntry } from 'pino';
import { AppConfigService } from '../config/app-config.service';

// Secrets never reach a log line, whatever object they sit in.
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passwordHash',
  '*.refreshToken',
  '*.accessToken',
  '*.token',
  '*.apiKey',
  '*.OPENAI_API_KEY',
  '*.JWT_SECRET',
];

// The process's one logger: Nest's logs (app-logger.ts) and the request lines (request-log.ts).
export async function buildRootLogger(config: AppConfigService): Promise<Logger> {
  return pino({ level: config.get('LOG_LEVEL'), redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, await buildLogDestination(config));
}

// Pretty lines in development, JSON in production; with LOG_DIR also JSON into daily/10 MB
// rolling files there. Streams run in-process (no worker thread), so nothing is lost on exit.
async function buildLogDestination(config: AppConfigService): Promise<DestinationStream> {
  const isPretty = config.get('LOG_PRETTY') ?? !config.isProduction;
  const console: DestinationStream = isPretty
    ? (require('pino-pretty') as typeof import('pino-pretty'))({ singleLine: true, translateTime: 'SYS:HH:MM:ss.l', sync: true })
    : pino.destination({ fd: 1, sync: false });
  const logDir = config.get('LOG_DIR');
  if (!logDir) return console;
  const roll = require('pino-roll') as (options: object) => Promise<DestinationStream>;
  const file = await roll({ file: join(logDir, 'app'), extension: '.log', frequency: 'daily', size: '10m', mkdir: true, limit: { count: 14 } });
  const level = config.get('LOG_LEVEL') as StreamEntry['level'];
  return pino.multistream([
    { level, stream: console },
    { level, stream: file },
  ]);
}
