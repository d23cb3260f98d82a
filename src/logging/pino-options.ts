import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import pino, { DestinationStream, StreamEntry } from 'pino';
import type { Options } from 'pino-http';
import type { AuthUser } from '../auth/auth-user';
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

type Req = IncomingMessage & { id?: string; user?: AuthUser; originalUrl?: string };

export function buildPinoHttpOptions(config: AppConfigService): Options {
  return {
    level: config.get('LOG_LEVEL'),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // (The request id is Fastify's, request-id.ts: middie sets it as req.id, which pino-http keeps.)
    // The user is known only once the guard ran, so it goes on the closing line rather than in the
    // request's bindings: with it there, pino-http made one more child logger per authenticated
    // request at its end, and the line carried requestId twice.
    customProps: (req: IncomingMessage) => ({ requestId: (req as Req).id }),
    customSuccessObject: (req: IncomingMessage, _res: ServerResponse, line: object) => ({ userId: (req as Req).user?.id, ...line }),
    customErrorObject: (req: IncomingMessage, _res: ServerResponse, _error: Error, line: object) => ({ userId: (req as Req).user?.id, ...line }),
    // Read the three fields straight from the request and response: the default wrappers first copy
    // every header and socket field into a new object on each request and response line.
    wrapSerializers: false,
    serializers: {
      req: (req: Req) => ({ id: req.id, method: req.method, url: req.originalUrl ?? req.url }),
      res: (res: ServerResponse) => ({ statusCode: res.headersSent ? res.statusCode : null }),
    },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
  };
}

// Pretty lines in development, JSON in production; with LOG_DIR also JSON into daily/10 MB
// rolling files there. Streams run in-process (no worker thread), so nothing is lost on exit.
export async function buildLogDestination(config: AppConfigService): Promise<DestinationStream> {
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
