import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AccountAccessService } from '../access/account-access.service';
import { AppError } from '../common/errors/app-error';
import { AppConfigService } from '../config/app-config.service';
import type { Prisma } from '../generated/prisma/client';
import { AccessTokenPayload, AuthUser } from './auth-user';
import { durationToMs } from './duration';
import { RefreshTokenRepository } from './refresh-token.repository';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

const invalidRefreshToken = () => new AppError('UNAUTHORIZED', 'Invalid refresh token');

// Access tokens are short-lived JWTs; refresh tokens are random strings stored only as SHA-256
// hashes, single-use, grouped in families so that a replayed token revokes its whole family.
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly config: AppConfigService,
    private readonly access: AccountAccessService,
  ) {}

  async issuePair(user: AuthUser, familyId: string = randomUUID()): Promise<TokenPair> {
    const payload: AccessTokenPayload = { sub: user.id, email: user.email, typ: 'access' };
    const refreshToken = randomBytes(32).toString('base64url');
    await this.refreshTokens.create({
      userId: user.id,
      familyId,
      tokenHash: hashToken(refreshToken),
      expiresAt: new Date(Date.now() + durationToMs(this.config.get('JWT_REFRESH_EXPIRES_IN'))),
    });
    return { accessToken: await this.jwt.signAsync(payload), refreshToken };
  }

  // Ends every refresh-token family of the user (its access tokens run out on their own).
  revokeAllSessions(userId: string, tx?: Prisma.TransactionClient): Promise<void> {
    return this.refreshTokens.revokeAllForUser(userId, tx);
  }

  // Returns the owner of a valid, unused refresh token and consumes it.
  async consumeRefreshToken(refreshToken: string): Promise<{ userId: string; familyId: string }> {
    const stored = await this.refreshTokens.findByHash(hashToken(refreshToken));
    if (!stored) throw invalidRefreshToken();
    // A disable revokes the account's tokens; saying why is more use to its owner than "invalid".
    if (this.access.isDisabled(stored.userId)) throw new AppError('ACCOUNT_DISABLED', 'Account disabled');
    if (stored.usedAt || stored.revokedAt) {
      await this.refreshTokens.revokeFamily(stored.familyId);
      throw invalidRefreshToken();
    }
    if (stored.expiresAt.getTime() <= Date.now()) throw invalidRefreshToken();
    if (!(await this.refreshTokens.markUsed(stored.id))) {
      await this.refreshTokens.revokeFamily(stored.familyId);
      throw invalidRefreshToken();
    }
    return { userId: stored.userId, familyId: stored.familyId };
  }

  // For the socket handshake: the same checks as the REST strategy.
  async verifyAccessToken(token: string): Promise<AuthUser> {
    const payload = await this.jwt.verifyAsync<AccessTokenPayload>(token, { algorithms: ['HS256'] });
    if (payload.typ !== 'access' || typeof payload.sub !== 'string' || this.access.isDisabled(payload.sub)) throw new AppError('UNAUTHORIZED', 'Unauthorized');
    return { id: payload.sub, email: payload.email };
  }
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
