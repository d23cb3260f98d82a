import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RATE_LIMIT_ADMISSION, RATE_LIMIT_BUCKET_KEY, RATE_LIMIT_IN_HANDLER_KEY, RateLimitBucket } from './rate-limit.constants';
import { rateLimitedError, RateLimitService } from './rate-limit.service';

// Global guard, after the JWT guard (which sets `request.user`): per-user for `ai` routes, per-IP for `auth` routes.
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly rateLimits: RateLimitService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const bucket = this.reflector.getAllAndOverride<RateLimitBucket | undefined>(RATE_LIMIT_BUCKET_KEY, [context.getHandler(), context.getClass()]);
    if (!bucket) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: { id: string }; [RATE_LIMIT_ADMISSION]?: Promise<void> }>();
    const response = context.switchToHttp().getResponse<FastifyReply>();
    const tracker = bucket === 'ai' && request.user ? request.user.id : (request.ip ?? 'unknown');
    const admission = this.admit(bucket, tracker, response);
    if (!this.reflector.get<boolean>(RATE_LIMIT_IN_HANDLER_KEY, context.getHandler())) {
      await admission;
      return true;
    }
    // Awaited by the handler; a request refused earlier (400) must not leave it unhandled.
    admission.catch(() => undefined);
    request[RATE_LIMIT_ADMISSION] = admission;
    return true;
  }

  private async admit(bucket: RateLimitBucket, tracker: string, response: FastifyReply): Promise<void> {
    const decision = await this.rateLimits.consume(bucket, tracker);
    // An `inHandler` route may already have answered (a validation error) when the decision arrives.
    if (!response.sent && !response.raw.headersSent) {
      void response.headers({
        'X-RateLimit-Limit': decision.limit,
        'X-RateLimit-Remaining': decision.remaining,
        'X-RateLimit-Reset': decision.resetSeconds,
        ...(decision.isAllowed ? {} : { 'Retry-After': decision.retryAfterSeconds }),
      });
    }
    if (!decision.isAllowed) throw rateLimitedError(decision.retryAfterSeconds);
  }
}
