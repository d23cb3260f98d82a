import { AppError, NotFoundError, TokenLimitExceededError } from '../../common/errors/app-error';
import { classifyJobFailure } from './job-failure';

describe(classifyJobFailure.name, () => {
  it.each([
    ['an upstream 4xx', new AppError('LLM_BAD_REQUEST', 'max_tokens is too large')],
    ['invalid job data', new AppError('VALIDATION_FAILED', 'message must be a string')],
    ['a used-up budget', new TokenLimitExceededError()],
    ['a missing conversation', new NotFoundError('Conversation')],
    ['an unconfigured upstream', new AppError('LLM_NOT_CONFIGURED', 'OpenAI client not initialized')],
  ])('fails %s at once with its message', (_label, error) => {
    expect(classifyJobFailure(error)).toEqual({ reason: error.message, isPermanent: true });
  });

  it.each([
    ['an upstream 5xx', new AppError('LLM_UNAVAILABLE', 'The AI provider is unavailable')],
    ['an upstream 429', new AppError('LLM_RATE_LIMITED', 'The AI provider is rate limiting requests; retry later')],
    ['an upstream timeout', new AppError('LLM_TIMEOUT', 'The AI provider timed out')],
  ])('retries %s', (_label, error) => {
    expect(classifyJobFailure(error)).toEqual({ reason: error.message, isPermanent: false });
  });

  it('retries an unreachable dependency under a bland reason', () => {
    expect(classifyJobFailure(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toEqual({
      reason: 'Service temporarily unavailable',
      isPermanent: false,
    });
  });

  it('retries an unknown error without exposing its message', () => {
    expect(classifyJobFailure(new Error('SELECT secret FROM users failed'))).toEqual({
      reason: 'Internal server error',
      isPermanent: false,
    });
  });
});
