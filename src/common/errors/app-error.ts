import { ErrorCode, statusOf } from './error-codes';

// Services throw these instead of HTTP exceptions: the same service serves REST, WebSocket and jobs.
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    // Extra detail for logs and metrics; never sent to clients.
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return statusOf(this.code);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}

export class TokenLimitExceededError extends AppError {
  constructor() {
    super('TOKEN_LIMIT_EXCEEDED', 'Token limit exceeded');
  }
}
