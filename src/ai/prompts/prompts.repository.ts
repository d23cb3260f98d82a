import { Injectable } from '@nestjs/common';
import type { PromptTemplate } from '../../generated/prisma/client';
import { PrismaService } from '../../prisma/prisma.service';

export interface PromptFields {
  name: string;
  description: string | null;
  template: string;
  variables: string[];
}

export interface PromptPage {
  prompts: PromptTemplate[];
  total: number;
}

// Queries only. Every statement filters by userId, so "not mine" reads as "not found".
@Injectable()
export class PromptsRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(userId: string, fields: PromptFields): Promise<PromptTemplate> {
    return this.prisma.promptTemplate.create({ data: { userId, ...fields } });
  }

  // Newest first, served by the (userId, createdAt desc) index; id breaks ties between equal times.
  async findPageForUser(userId: string, skip: number, take: number): Promise<PromptPage> {
    const [prompts, total] = await Promise.all([
      this.prisma.promptTemplate.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip, take }),
      this.prisma.promptTemplate.count({ where: { userId } }),
    ]);
    return { prompts, total };
  }

  findByIdForUser(id: string, userId: string): Promise<PromptTemplate | null> {
    return this.prisma.promptTemplate.findFirst({ where: { id, userId } });
  }

  // One statement that both checks the owner and returns the updated row; null when none matched.
  async updateForUser(id: string, userId: string, fields: Partial<PromptFields>): Promise<PromptTemplate | null> {
    const [updated] = await this.prisma.promptTemplate.updateManyAndReturn({ where: { id, userId }, data: fields });
    return updated ?? null;
  }

  async deleteForUser(id: string, userId: string): Promise<boolean> {
    const { count } = await this.prisma.promptTemplate.deleteMany({ where: { id, userId } });
    return count === 1;
  }
}
