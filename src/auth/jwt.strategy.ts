import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AccountAccessService } from '../access/account-access.service';
import { AppConfigService } from '../config/app-config.service';
import { AccessTokenPayload, AuthUser } from './auth-user';

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor(
    config: AppConfigService,
    private readonly access: AccountAccessService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // jsonwebtoken accepts a KeyObject; passport-jwt's types predate that.
      secretOrKey: config.jwtKey as unknown as Buffer,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  // No database read per request: a disabled account is a lookup in the in-memory set that every
  // instance keeps current. Returning false gives a 401.
  validate(payload: AccessTokenPayload): AuthUser | false {
    if (payload.typ !== 'access' || typeof payload.sub !== 'string') return false;
    if (this.access.isDisabled(payload.sub)) return false;
    return { id: payload.sub, email: payload.email };
  }
}
