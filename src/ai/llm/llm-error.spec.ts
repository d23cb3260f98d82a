import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { AppError } from '../../common/errors/app-error';
import { isFallbackEligible } from './llm-error';
import { mapStainlessError } from './providers/stainless-error';

const sdk = { APIError, APIConnectionError, APIConnectionTimeoutError, APIUserAbortError };
const mapLlmError = (error: unknown, timing?: { elapsedMs: number; timeoutMs: number }, secrets?: string[]) => mapStainlessError(error, sdk, timing, secrets);

const apiError = (status: number, message: string) => APIError.generate(status, { error: { message } }, `${status} ${message}`, new Headers());

describe(mapStainlessError.name, () => {
  it.each([
    [404, "The model 'gpt-5' does not exist", 'LLM_BAD_REQUEST', 400, "The model 'gpt-5' does not exist"],
    [400, "This model's maximum context length is 8192 tokens", 'LLM_BAD_REQUEST', 400, "This model's maximum context length is 8192 tokens"],
    [422, 'Unprocessable', 'LLM_BAD_REQUEST', 400, 'Unprocessable'],
    [429, 'Rate limit reached', 'LLM_RATE_LIMITED', 429, 'The AI provider is rate limiting requests; retry later'],
    [500, 'boom', 'LLM_UNAVAILABLE', 502, 'The AI provider is unavailable'],
    [503, 'overloaded', 'LLM_UNAVAILABLE', 502, 'The AI provider is unavailable'],
    [401, 'Incorrect API key provided: sk-abc', 'LLM_UNAVAILABLE', 502, 'The AI provider is unavailable'],
  ])('maps upstream %i to %s (%i)', (status, message, code, httpStatus, clientMessage) => {
    const mapped = mapLlmError(apiError(status, message));
    expect(mapped).toBeInstanceOf(AppError);
    expect([mapped.code, mapped.status, mapped.message]).toEqual([code, httpStatus, clientMessage]);
  });

  it("cuts the API key, whole or masked, out of an upstream's message", () => {
    const mapped = mapLlmError(apiError(400, 'Bad key my-own-key-123456 or sk-abc***wxyz for this model'), undefined, ['my-own-key-123456']);
    expect(mapped.message).toBe('Bad key [redacted] or [redacted] for this model');
  });

  it('maps SDK timeouts to 504', () => {
    expect(mapLlmError(new APIConnectionTimeoutError()).status).toBe(504);
  });

  it('maps a connection failure to 502, or 504 when it came at the timeout', () => {
    const error = new APIConnectionError({ message: 'Connection error.' });
    expect(mapLlmError(error, { elapsedMs: 10, timeoutMs: 1000 }).status).toBe(502);
    expect(mapLlmError(error, { elapsedMs: 1001, timeoutMs: 1000 }).status).toBe(504);
  });

  it('maps a dropped stream and an abort to 502', () => {
    expect(mapLlmError(new TypeError('terminated')).status).toBe(502);
    expect(mapLlmError(new APIUserAbortError()).status).toBe(502);
  });

  it('keeps AppErrors as they are', () => {
    const error = new AppError('LLM_NOT_CONFIGURED', 'OpenAI client not initialized');
    expect(mapLlmError(error)).toBe(error);
  });

  it('marks what another model may answer: 5xx, 429, timeouts and connection failures, not rejected requests or credentials', () => {
    expect([500, 503, 529, 429].map((status) => isFallbackEligible(mapLlmError(apiError(status, 'x'))))).toEqual([true, true, true, true]);
    expect([400, 404, 401, 403].map((status) => isFallbackEligible(mapLlmError(apiError(status, 'x'))))).toEqual([false, false, false, false]);
    expect(isFallbackEligible(mapLlmError(new APIConnectionTimeoutError()))).toBe(true);
    expect(isFallbackEligible(mapLlmError(new APIConnectionError({ message: 'Connection error.' })))).toBe(true);
    expect(isFallbackEligible(new AppError('LLM_NOT_CONFIGURED', 'x'))).toBe(false);
  });
});
