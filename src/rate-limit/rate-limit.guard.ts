import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { AuthUser } from '../auth/auth-user';
import { RATE_LIMIT_BUCKET_KEY, RateLimitBucket } from './rate-limit.constants';
import { rateLimitedError, RateLimitService } from './rate-limit.service';

// Global guard, after the JWT guard: per-user for `ai` routes, per-IP for `auth` routes.
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly rateLimits: RateLimitService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const bucket = this.reflector.getAllAndOverride<RateLimitBucket | undefined>(RATE_LIMIT_BUCKET_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!bucket) return true;
    const request = context.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    const response = context.switchToHttp().getResponse<Response>();
    const tracker = bucket === 'ai' && request.user ? request.user.id : (request.ip ?? 'unknown');
    const decision = await this.rateLimits.consume(bucket, tracker);
    response.setHeader('X-RateLimit-Limit', decision.limit);
    response.setHeader('X-RateLimit-Remaining', decision.remaining);
    response.setHeader('X-RateLimit-Reset', decision.resetSeconds);
    if (!decision.isAllowed) {
      response.setHeader('Retry-After', decision.retryAfterSeconds);
      throw rateLimitedError(decision.retryAfterSeconds);
    }
    return true;
  }
}
