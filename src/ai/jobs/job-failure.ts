import { AppError } from '../../common/errors/app-error';
import { isTransient } from '../../common/errors/error-codes';
import { toClientError } from '../../common/errors/client-error';

export interface JobFailure {
  // Becomes the job's failedReason, which its owner reads: never a stack, SQL or key.
  reason: string;
  // Retrying cannot help (bad data, the upstream's 4xx, budget used up, not found): fail at once.
  isPermanent: boolean;
}

// The processor's retry-or-discard decision, from the same code table as the HTTP statuses.
// Unknown errors (a dropped connection, a bug) are retried: the attempt limit bounds their cost.
export function classifyJobFailure(error: unknown): JobFailure {
  if (error instanceof AppError) return { reason: error.message, isPermanent: !isTransient(error.code) };
  const { message } = toClientError(error);
  return { reason: Array.isArray(message) ? message.join('; ') : message, isPermanent: false };
}
