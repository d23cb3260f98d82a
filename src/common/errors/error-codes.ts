import { HttpStatus } from '@nestjs/common';

// One table from domain error codes to HTTP statuses. REST answers with the status, the gateway
// sends it as `chat:error.code`, and the job processor retries only the codes marked transient.
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: HttpStatus.BAD_REQUEST, transient: false },
  UNAUTHORIZED: { status: HttpStatus.UNAUTHORIZED, transient: false },
  // A disabled account: refused at login and refresh, and its queued jobs fail.
  ACCOUNT_DISABLED: { status: HttpStatus.UNAUTHORIZED, transient: false },
  // Authenticated, but the route needs a role the caller lacks (admin routes).
  FORBIDDEN: { status: HttpStatus.FORBIDDEN, transient: false },
  CONTENT_FLAGGED: { status: HttpStatus.BAD_REQUEST, transient: false },
  TOKEN_LIMIT_EXCEEDED: { status: HttpStatus.FORBIDDEN, transient: false },
  NOT_FOUND: { status: HttpStatus.NOT_FOUND, transient: false },
  PAYLOAD_TOO_LARGE: { status: HttpStatus.PAYLOAD_TOO_LARGE, transient: false },
  UNSUPPORTED_MEDIA_TYPE: { status: HttpStatus.UNSUPPORTED_MEDIA_TYPE, transient: false },
  CONFLICT: { status: HttpStatus.CONFLICT, transient: false },
  STREAM_IN_PROGRESS: { status: HttpStatus.CONFLICT, transient: false },
  RATE_LIMITED: { status: HttpStatus.TOO_MANY_REQUESTS, transient: true },
  LLM_BAD_REQUEST: { status: HttpStatus.BAD_REQUEST, transient: false },
  LLM_RATE_LIMITED: { status: HttpStatus.TOO_MANY_REQUESTS, transient: true },
  LLM_UNAVAILABLE: { status: HttpStatus.BAD_GATEWAY, transient: true },
  LLM_TIMEOUT: { status: HttpStatus.GATEWAY_TIMEOUT, transient: true },
  LLM_NOT_CONFIGURED: { status: HttpStatus.SERVICE_UNAVAILABLE, transient: false },
  MODERATION_UNAVAILABLE: { status: HttpStatus.SERVICE_UNAVAILABLE, transient: true },
  // PostgreSQL has no pgvector (or the service found no vector column at start-up): knowledge is off.
  VECTOR_SEARCH_UNAVAILABLE: { status: HttpStatus.SERVICE_UNAVAILABLE, transient: false },
  DEPENDENCY_UNAVAILABLE: { status: HttpStatus.SERVICE_UNAVAILABLE, transient: true },
  SHUTTING_DOWN: { status: HttpStatus.SERVICE_UNAVAILABLE, transient: true },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const statusOf = (code: ErrorCode): number => ERROR_CODES[code].status;
export const isTransient = (code: ErrorCode): boolean => ERROR_CODES[code].transient;
