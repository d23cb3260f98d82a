import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { AuthUser } from '../auth/auth-user';
import { AppError } from '../common/errors/app-error';
import { UsersService } from '../users/users.service';

// Admin routes: the role is read from the database on each call (admin traffic is light), so a
// demotion counts at once rather than when the access token expires.
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly users: UsersService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const caller = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!caller) throw new AppError('UNAUTHORIZED', 'Unauthorized');
    const user = await this.users.findById(caller.id);
    if (!user) throw new AppError('UNAUTHORIZED', 'Unauthorized');
    if (user.role !== 'admin') throw new AppError('FORBIDDEN', 'Admin role required');
    return true;
  }
}
