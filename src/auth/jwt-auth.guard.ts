import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AccountAccessService } from '../access/account-access.service';
import { AppError } from '../common/errors/app-error';
import { IS_PUBLIC_KEY } from '../common/decorators/public.decorator';
import type { AuthUser } from './auth-user';

// Global: every HTTP route needs a valid access token unless marked @Public(). The token's account
// must not be disabled: a lookup in the in-memory set every instance keeps current, no database
// read per request. Checked here rather than in JwtStrategy, which passport registers process-wide.
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
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
    await super.canActivate(context);
    const user = context.switchToHttp().getRequest<{ user: AuthUser }>().user;
    if (this.access.isDisabled(user.id)) throw new AppError('UNAUTHORIZED', 'Unauthorized');
    return true;
  }
}
