import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { Prisma } from '../../generated/prisma/client';
import { AppError } from './app-error';

export interface ClientError {
  status: number;
  message: string | string[];
  error: string;
  // Extra fields of the error's body, after the three above.
  fields?: Record<string, unknown>;
}

const CONNECTION_ERROR =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection terminated|connect ECONN|Connection is closed|Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|Can't reach database|Server has closed the connection|terminating connection|Query read timeout|timeout exceeded when trying to connect/i;

// Turns anything thrown into what a client may see. Unknown errors become a bland 500 so that no
// stack trace, SQL or key ever leaks; the caller logs the original.
export function toClientError(error: unknown): ClientError {
  if (error instanceof AppError) return { ...withReason(error.status, error.message), fields: error.clientFields };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    const message = typeof body === 'object' && body !== null && 'message' in body ? (body as { message: string | string[] }).message : error.message;
    return withReason(status, message);
  }
  if (isBodyParserError(error)) return withReason(error.status, error.expose ? error.message : (STATUS_CODES[error.status] ?? 'Bad Request'));
  if (isDependencyDown(error)) return withReason(503, 'Service temporarily unavailable');
  return withReason(500, 'Internal server error');
}

function withReason(status: number, message: string | string[]): ClientError {
  return { status, message, error: STATUS_CODES[status] ?? 'Error' };
}

function isBodyParserError(error: unknown): error is { status: number; expose: boolean; message: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    'type' in error &&
    'status' in error &&
    typeof (error as { status: unknown }).status === 'number' &&
    (error as { status: number }).status < 500
  );
}

// PostgreSQL or Redis unreachable: a transient 503, not a 500.
function isDependencyDown(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError && ['P1001', 'P1002', 'P1008', 'P1017', 'P2024'].includes(error.code)) return true;
  if (!(error instanceof Error)) return false;
  const { code, cause } = error as { code?: string; cause?: unknown };
  const message = `${error.message} ${code ?? ''} ${cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : ''}`;
  return CONNECTION_ERROR.test(message);
}
