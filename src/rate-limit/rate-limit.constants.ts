// Named throttlers. `auth` counts per client IP (brute force on login/register/refresh);
// `ai` counts per user and is shared by every AI call: REST chat, embeddings, jobs and streams.
export const RATE_LIMIT_BUCKETS = ['auth', 'ai'] as const;
export type RateLimitBucket = (typeof RATE_LIMIT_BUCKETS)[number];
export const RATE_LIMIT_BUCKET_KEY = 'rateLimitBucket';
export const RATE_LIMIT_IN_HANDLER_KEY = 'rateLimitInHandler';
// Where the guard leaves the pending decision of an `inHandler` route on the request.
export const RATE_LIMIT_ADMISSION = Symbol('rateLimitAdmission');
