import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { RATE_LIMIT_ADMISSION, RATE_LIMIT_BUCKET_KEY, RATE_LIMIT_IN_HANDLER_KEY, RateLimitBucket } from './rate-limit.constants';

// Routes without this decorator are not rate limited. `inHandler`: the guard only starts the
// increment and the handler awaits it (@RateLimitAdmission) alongside its own first reads, so the
// Redis round trip is not added in series; the handler must await it before changing anything.
export const RateLimit = (bucket: RateLimitBucket, { inHandler = false } = {}) =>
  applyDecorators(SetMetadata(RATE_LIMIT_BUCKET_KEY, bucket), SetMetadata(RATE_LIMIT_IN_HANDLER_KEY, inHandler));

// The pending rate-limit decision of a `RateLimit(bucket, { inHandler: true })` route: rejects with
// the 429 when over the limit.
export const RateLimitAdmission = createParamDecorator((_data: unknown, context: ExecutionContext): Promise<void> => {
  return context.switchToHttp().getRequest<{ [RATE_LIMIT_ADMISSION]: Promise<void> }>()[RATE_LIMIT_ADMISSION];
});
