import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { IS_PUBLIC_KEY } from '../common/decorators/public.decorator';
import type { AuthUser } from './auth-user';
import { TokenService } from './token.service';

// As passport-jwt's fromAuthHeaderAsBearerToken read it: the header's first two words, the scheme
// compared case-insensitively.
const AUTHORIZATION = /(\S+)\s+(\S+)/;

// Global: every HTTP route needs a valid access token unless marked @Public(). Verifies the token
// itself, with the checks of the socket handshake: through passport the same check cost twice the
// CPU of the verification (conversation-list profile, docs/performance.md).
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<Request & { user?: AuthUser }>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? AUTHORIZATION.exec(header) : null;
    if (!match || match[1].toLowerCase() !== 'bearer') throw new UnauthorizedException();
    try {
      request.user = this.tokens.readAccessToken(match[2]);
    } catch {
      // Bad signature, expired, wrong algorithm or not an access token: all the same 401.
      throw new UnauthorizedException();
    }
    return true;
  }
}
