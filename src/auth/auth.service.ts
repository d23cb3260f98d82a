import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { isUniqueViolation } from '../prisma/prisma-errors';
import { ProfileResponseDto } from '../users/dto/user-response.dto';
import { mapProfile, mapUser } from '../users/user.mapper';
import { UsersService } from '../users/users.service';
import { AuthResponseDto } from './dto/auth-response.dto';
import { LoginDto } from './dto/login.dto';
import { RegisterDto } from './dto/register.dto';
import { PasswordService } from './password.service';
import { TokenService } from './token.service';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly tokens: TokenService,
  ) {}

  async register(dto: RegisterDto): Promise<AuthResponseDto> {
    const passwordHash = await this.passwords.hash(dto.password);
    const user = await this.users.createUser({ email: dto.email, passwordHash, name: dto.name }).catch((error) => {
      throw isUniqueViolation(error) ? new AppError('CONFLICT', 'Email already registered') : error;
    });
    return { ...(await this.tokens.issuePair(user)), user: mapUser(user) };
  }

  async login(dto: LoginDto): Promise<AuthResponseDto> {
    const user = await this.users.findByEmail(dto.email);
    const isValid = await this.passwords.verify(dto.password, user?.passwordHash);
    if (!user || !isValid) throw new AppError('UNAUTHORIZED', 'Invalid email or password');
    if (user.disabled) throw accountDisabled();
    const current = await this.users.applyAdminEmails(user);
    return { ...(await this.tokens.issuePair(current)), user: mapUser(current) };
  }

  async refresh(refreshToken: string): Promise<AuthResponseDto> {
    const { userId, familyId } = await this.tokens.consumeRefreshToken(refreshToken);
    const user = await this.users.getById(userId);
    if (user.disabled) throw accountDisabled();
    return { ...(await this.tokens.issuePair(user, familyId)), user: mapUser(user) };
  }

  async getProfile(userId: string): Promise<ProfileResponseDto> {
    const user = await this.users.getById(userId).catch((error) => {
      // A valid token for a user that no longer exists.
      throw error instanceof AppError && error.code === 'NOT_FOUND' ? new AppError('UNAUTHORIZED', 'Unauthorized') : error;
    });
    return mapProfile(user);
  }
}

// Told only to the holder of valid credentials: the password or refresh token was right.
const accountDisabled = () => new AppError('ACCOUNT_DISABLED', 'Account disabled');
