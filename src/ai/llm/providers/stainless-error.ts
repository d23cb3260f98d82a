import { AppError } from '../../../common/errors/app-error';
import { toLlmError, UpstreamFailure } from '../llm-error';

// The error classes of a Stainless-generated SDK (`openai`, `@anthropic-ai/sdk`): the same shapes,
// each SDK its own classes.
export interface StainlessErrors {
  APIError: abstract new (...args: never[]) => { status?: number; error?: unknown; message: string };
  APIConnectionError: abstract new (...args: never[]) => Error;
  APIConnectionTimeoutError: abstract new (...args: never[]) => Error;
  APIUserAbortError: abstract new (...args: never[]) => Error;
}

// What a Stainless SDK threw, as an AppError of the one table. `elapsedMs`/`timeoutMs` tell a
// timeout apart when the SDK could not (its abort error can come from another JS realm, e.g.
// under Jest, and then reads as a plain connection failure).
export function mapStainlessError(error: unknown, sdk: StainlessErrors, timing?: { elapsedMs: number; timeoutMs: number }, secrets: string[] = []): AppError {
  if (error instanceof AppError) return error;
  return toLlmError(failureOf(error, sdk, timing), secrets);
}

function failureOf(error: unknown, sdk: StainlessErrors, timing?: { elapsedMs: number; timeoutMs: number }): UpstreamFailure {
  if (error instanceof sdk.APIConnectionTimeoutError) return { kind: 'timeout' };
  if (error instanceof sdk.APIUserAbortError) return { kind: 'connection', reason: 'aborted' };
  if (error instanceof sdk.APIConnectionError)
    return timing && timing.elapsedMs >= timing.timeoutMs ? { kind: 'timeout' } : { kind: 'connection', reason: 'connection failed' };
  if (error instanceof sdk.APIError && typeof error.status === 'number') return { kind: 'status', status: error.status, message: upstreamMessage(error) };
  // e.g. undici's "terminated" when the upstream drops a stream mid-way.
  return { kind: 'connection', reason: error instanceof Error ? error.message : 'unknown' };
}

// The SDKs prefix messages with the status ("400 The model ..."); the body's own message is
// cleaner: `{ message }` (OpenAI) or `{ type: 'error', error: { message } }` (Anthropic).
function upstreamMessage(error: { error?: unknown; message: string }): string {
  const body = error.error as { message?: unknown; error?: { message?: unknown } } | undefined;
  const message = typeof body?.message === 'string' ? body.message : typeof body?.error?.message === 'string' ? body.error.message : undefined;
  return message ?? error.message.replace(/^\d{3}\s+/, '');
}
