import { Injectable } from '@nestjs/common';
import type { Prisma, User } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';

type Db = Prisma.TransactionClient | PrismaService;

@Injectable()
export class UsersRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: { email: string; passwordHash: string; name: string | null; tokenLimit: number }): Promise<User> {
    return this.prisma.user.create({ data });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { email } });
  }

  findById(id: string): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { id } });
  }

  findBudget(id: string): Promise<{ totalTokensUsed: number; tokenLimit: number } | null> {
    return this.prisma.user.findUnique({ where: { id }, select: { totalTokensUsed: true, tokenLimit: true } });
  }

  findUsage(id: string): Promise<{ totalTokensUsed: number; lastAiCallAt: Date | null } | null> {
    return this.prisma.user.findUnique({ where: { id }, select: { totalTokensUsed: true, lastAiCallAt: true } });
  }

  // Atomic in the database (UPDATE ... SET x = x + n): concurrent turns never lose tokens.
  async addTokenUsage(id: string, tokens: number, db: Db = this.prisma): Promise<void> {
    await db.user.update({
      where: { id },
      data: { totalTokensUsed: { increment: tokens }, lastAiCallAt: new Date() },
      select: { id: true },
    });
  }
}
