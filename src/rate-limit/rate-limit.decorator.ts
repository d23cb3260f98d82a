import { SetMetadata } from '@nestjs/common';
import { RATE_LIMIT_BUCKET_KEY, RateLimitBucket } from './rate-limit.constants';

// Routes without this decorator are not rate limited.
export const RateLimit = (bucket: RateLimitBucket) => SetMetadata(RATE_LIMIT_BUCKET_KEY, bucket);
