import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';

// The OpenAPI lines every AI controller shares: its tag, the bearer token, the 401 without one.
export const ApiAuthenticatedTag = (tag: string) =>
  applyDecorators(ApiTags(tag), ApiBearerAuth(), ApiResponse({ status: 401, description: 'Missing, malformed or expired access token' }));

// A route that calls the model answers with the upstream's failures too (see the error table).
export const ApiModelCallResponses = () =>
  applyDecorators(
    ApiResponse({ status: 400, description: 'Invalid body, or the upstream rejected the request (its message)' }),
    ApiResponse({ status: 403, description: 'Token limit exceeded' }),
    ApiResponse({ status: 429, description: 'Rate limit (see Retry-After), or the upstream is rate limiting' }),
    ApiResponse({ status: 502, description: 'AI provider unavailable' }),
    ApiResponse({ status: 503, description: 'OpenAI client not initialized' }),
    ApiResponse({ status: 504, description: 'AI provider timed out' }),
  );
