import { Injectable } from '@nestjs/common';
import { Prisma, type User, type UserRole } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';

export interface UserChanges {
  tokenLimit?: number;
  disabled?: boolean;
  role?: UserRole;
}

@Injectable()
export class UsersRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: { email: string; passwordHash: string; name: string | null; tokenLimit: number; role: UserRole }): Promise<User> {
    return this.prisma.user.create({ data });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { email } });
  }

  findById(id: string): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { id } });
  }

  setRole(id: string, role: UserRole): Promise<User> {
    return this.prisma.user.update({ where: { id }, data: { role } });
  }

  update(id: string, changes: UserChanges, tx: Prisma.TransactionClient = this.prisma): Promise<User> {
    return tx.user.update({ where: { id }, data: changes });
  }

  async findDisabledIds(): Promise<string[]> {
    const rows = await this.prisma.user.findMany({ where: { disabled: true }, select: { id: true } });
    return rows.map((row) => row.id);
  }

  // Newest accounts first; `q` matches part of the e-mail or the name, in any case.
  async findPage({ q, page, limit }: { q?: string; page: number; limit: number }): Promise<{ rows: User[]; total: number }> {
    const where: Prisma.UserWhereInput = q ? { OR: [{ email: { contains: q, mode: 'insensitive' } }, { name: { contains: q, mode: 'insensitive' } }] } : {};
    const [rows, total] = await Promise.all([
      this.prisma.user.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], skip: (page - 1) * limit, take: limit }),
      this.prisma.user.count({ where }),
    ]);
    return { rows, total };
  }
}
