import { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

// Nest's logger interface over the root pino logger. Nest's Logger passes the caller's context
// (its class name) last; an object message becomes the line's fields, an Error its `err`.
//
// Lines carry no request-scoped fields of their own: binding them (nestjs-pino) takes an
// AsyncLocalStorage, which on Node 20 turns on promise hooks for every promise of the process and
// cost ~10% of the CPU of a chat turn. What a request's lines must name, they name themselves
// (`requestId` in a call's context).
export class AppLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = params.length ? { context: params.at(-1) } : {};
    const args = params.slice(0, -1);
    if (message instanceof Error) {
      fields.err = message;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(fields, message);
    } else if (level === 'error' && typeof message === 'string' && args.length === 1 && typeof args[0] === 'string' && /\n\s*at /.test(args[0])) {
      // Nest's own exception handlers call error(message, stack, context).
      const err = new Error(message);
      err.stack = args[0];
      this.pino.error({ ...fields, err });
      return;
    } else {
      this.pino[level](fields, String(message), ...args);
      return;
    }
    this.pino[level](fields, ...(args as [string?]));
  }
}
