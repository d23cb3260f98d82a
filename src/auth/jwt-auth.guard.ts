import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { LRUCache } from 'lru-cache';
import { AccountAccessService } from '../access/account-access.service';
import { AppError } from '../common/errors/app-error';
import { IS_PUBLIC_KEY } from '../common/decorators/public.decorator';
import type { AuthUser } from './auth-user';

// Tokens passport accepted, at most this many; an app sends the same token until it refreshes it.
const VERIFIED_TOKENS_MAX = 10_000;

type AuthenticatedRequest = { headers: { authorization?: string }; user: AuthUser };

// Global: every HTTP route needs a valid access token unless marked @Public(). The token's account
// must not be disabled: a lookup in the in-memory set every instance keeps current, no database
// read per request. Checked here rather than in JwtStrategy, which passport registers process-wide.
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  // An Authorization header passport verified, with the user it gave, until the token expires: the
  // same header again skips the verify (an HMAC and two JSON parses, ~0.1 ms of CPU a request under
  // load). Only verified tokens get in, and none outlives its `exp`.
  private readonly verifiedTokens = new LRUCache<string, AuthUser>({ max: VERIFIED_TOKENS_MAX });

  constructor(
    private readonly reflector: Reflector,
    private readonly access: AccountAccessService,
  ) {
    super();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const known = header ? this.verifiedTokens.get(header) : undefined;
    if (known) {
      request.user = known;
    } else {
      await super.canActivate(context);
      if (header) this.remember(header, request.user);
    }
    if (this.access.isDisabled(request.user.id)) throw new AppError('UNAUTHORIZED', 'Unauthorized');
    return true;
  }

  // Passport checked the signature and `exp`; the payload is read again only for `exp`, once per token.
  private remember(header: string, user: AuthUser): void {
    const payload = header.slice(header.indexOf('.') + 1, header.lastIndexOf('.'));
    const { exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    const ttl = typeof exp === 'number' ? exp * 1000 - Date.now() : 0;
    if (ttl > 0) this.verifiedTokens.set(header, user, { ttl });
  }
}
