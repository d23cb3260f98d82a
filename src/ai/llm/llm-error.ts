import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { AppError } from '../../common/errors/app-error';

export const llmNotConfigured = () => new AppError('LLM_NOT_CONFIGURED', 'OpenAI client not initialized');

// The one place where upstream failures become the API's statuses (docs/api.md, errors):
// rejected request → 400 with the upstream's message, 429 → 429, down → 502, timeout → 504.
// `elapsedMs`/`timeoutMs` tell a timeout apart when the SDK could not (its abort error can come
// from another JS realm, e.g. under Jest, and then reads as a plain connection failure).
// `secrets` (the API key) are cut out of the upstream's message before it can reach a client.
export function mapLlmError(error: unknown, timing?: { elapsedMs: number; timeoutMs: number }, secrets: string[] = []): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof APIConnectionTimeoutError) return llmTimeout();
  if (error instanceof APIUserAbortError) return new AppError('LLM_UNAVAILABLE', 'The AI request was aborted');
  if (error instanceof APIConnectionError) {
    return timing && timing.elapsedMs >= timing.timeoutMs ? llmTimeout() : upstreamDown('connection failed');
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    if (status === 429) return new AppError('LLM_RATE_LIMITED', 'The AI provider is rate limiting requests; retry later', { status });
    // Bad credentials or permissions are our configuration problem, not the caller's request.
    if (status === 401 || status === 403) return upstreamDown(`upstream refused credentials (${status})`);
    if (status >= 400 && status < 500) return new AppError('LLM_BAD_REQUEST', upstreamMessage(error, secrets), { status });
    return upstreamDown(`upstream ${status}`);
  }
  // e.g. undici's "terminated" when the upstream drops a stream mid-way.
  return upstreamDown(error instanceof Error ? error.message : 'unknown');
}

const llmTimeout = () => new AppError('LLM_TIMEOUT', 'The AI provider timed out');
const upstreamDown = (reason: string) => new AppError('LLM_UNAVAILABLE', 'The AI provider is unavailable', { reason });

// The SDK prefixes messages with the status ("400 The model ..."); the body's own message is cleaner.
// An upstream (or a proxy in front of it) may echo the key, whole or masked: neither leaves.
function upstreamMessage(error: { error?: unknown; message: string }, secrets: string[]): string {
  const body = error.error as { message?: unknown } | undefined;
  const message = typeof body?.message === 'string' ? body.message : error.message.replace(/^\d{3}\s+/, '');
  const redacted = secrets.filter((secret) => secret.length >= 8).reduce((text, secret) => text.split(secret).join('[redacted]'), message);
  return redacted.replace(API_KEY_LIKE, '[redacted]').slice(0, 500) || 'The AI provider rejected the request';
}

const API_KEY_LIKE = /\b(sk|rk|pk)-[\w*.-]{6,}/g;
