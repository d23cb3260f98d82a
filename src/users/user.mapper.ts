import type { User } from '../generated/prisma/client';
import { ProfileResponseDto, UserResponseDto } from './dto/user-response.dto';

type UserRow = Pick<User, 'id' | 'email' | 'name' | 'createdAt' | 'totalTokensUsed' | 'tokenLimit' | 'role'>;

export const mapUser = (user: UserRow): UserResponseDto => ({
  id: user.id,
  email: user.email,
  name: user.name,
  createdAt: user.createdAt,
});

export const mapProfile = (user: UserRow): ProfileResponseDto => ({
  ...mapUser(user),
  totalTokensUsed: user.totalTokensUsed,
  tokenLimit: user.tokenLimit,
  role: user.role,
});
