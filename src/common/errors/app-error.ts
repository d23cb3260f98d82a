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

  // Fields a client gets beside `statusCode`, `message` and `error` (e.g. moderation categories).
  get clientFields(): Record<string, unknown> | undefined {
    return undefined;
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

export class ContentFlaggedError extends AppError {
  constructor(readonly categories: string[]) {
    super('CONTENT_FLAGGED', 'Message flagged by content moderation', { categories });
  }

  override get clientFields(): Record<string, unknown> {
    return { categories: this.categories };
  }
}
