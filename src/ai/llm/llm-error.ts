import { AppError } from '../../common/errors/app-error';

// How an upstream call failed, whichever SDK reported it.
export type UpstreamFailure =
  | { kind: 'status'; status: number; message?: string }
  | { kind: 'timeout' }
  // Refused, reset or dropped; `reason` is for logs only.
  | { kind: 'connection'; reason: string };

// The one place where upstream failures become the API's statuses (docs/api.md, errors):
// rejected request → 400 with the upstream's message, 429 → 429, down → 502, timeout → 504.
// `secrets` (the API keys) are cut out of the upstream's message before it can reach a client.
export function toLlmError(failure: UpstreamFailure, secrets: string[] = []): AppError {
  if (failure.kind === 'timeout') return new AppError('LLM_TIMEOUT', 'The AI provider timed out', { failure: 'timeout' });
  if (failure.kind === 'connection') return upstreamDown({ failure: 'connection', reason: failure.reason });
  const { status } = failure;
  if (status === 429) return new AppError('LLM_RATE_LIMITED', 'The AI provider is rate limiting requests; retry later', { failure: 'status', status });
  // Bad credentials or permissions are our configuration problem, not the caller's request.
  if (status === 401 || status === 403) return upstreamDown({ failure: 'status', status, reason: `upstream refused credentials (${status})` });
  if (status >= 400 && status < 500) return new AppError('LLM_BAD_REQUEST', clientMessage(failure.message, secrets), { failure: 'status', status });
  return upstreamDown({ failure: 'status', status, reason: `upstream ${status}` });
}

// Worth trying another model before the first token: the provider is down, overloaded, rate
// limiting or unreachable — not a request it rejected, nor credentials it refused.
export function isFallbackEligible(error: unknown): boolean {
  if (!(error instanceof AppError)) return false;
  const { failure, status } = (error.details ?? {}) as { failure?: string; status?: number };
  if (failure === 'timeout' || failure === 'connection') return true;
  return failure === 'status' && status !== undefined && (status === 429 || status >= 500);
}

const upstreamDown = (details: Record<string, unknown>) => new AppError('LLM_UNAVAILABLE', 'The AI provider is unavailable', details);

// An upstream (or a proxy in front of it) may echo the key, whole or masked: neither leaves.
function clientMessage(message: string | undefined, secrets: string[]): string {
  const redacted = secrets.filter((secret) => secret.length >= 8).reduce((text, secret) => text.split(secret).join('[redacted]'), message ?? '');
  return redacted.replace(API_KEY_LIKE, '[redacted]').slice(0, 500) || 'The AI provider rejected the request';
}

const API_KEY_LIKE = /\b(sk|rk|pk)-[\w*.-]{6,}/g;
