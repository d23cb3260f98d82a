import { Injectable } from '@nestjs/common';
import { AppConfigService } from '../../config/app-config.service';
import { PrismaService } from '../../prisma/prisma.service';
import { UsersRepository } from '../../users/users.repository';
import { UsersService } from '../../users/users.service';
import { EmbeddingRequestDto, EmbeddingResponseDto } from '../dto/embedding.dto';
import { llmNotConfigured } from '../llm/llm-error';
import { OpenAiService } from '../llm/openai.service';
import { textTokenCeiling } from '../llm/token-estimator';
import { TurnRequest } from './chat-turn.types';
import { EmbeddingRecordRepository } from './embedding-record.repository';

@Injectable()
export class EmbeddingService {
  constructor(
    private readonly config: AppConfigService,
    private readonly prisma: PrismaService,
    private readonly users: UsersService,
    private readonly usersRepository: UsersRepository,
    private readonly llm: OpenAiService,
    private readonly records: EmbeddingRecordRepository,
  ) {}

  // Each call is recorded with its tokens and counted in the user's usage, in one transaction.
  // `idempotencyKey` (jobs): a retried call whose tokens were already counted is not counted again.
  async createEmbedding(userId: string, dto: EmbeddingRequestDto, request: TurnRequest = { transport: 'rest' }): Promise<EmbeddingResponseDto> {
    const { idempotencyKey } = request;
    if (!this.llm.isConfigured) throw llmNotConfigured();
    const model = dto.model ?? this.config.get('OPENAI_EMBEDDING_MODEL');
    // Held against the budget like a chat turn's worst case, settled with the call's real tokens.
    const heldTokens = textTokenCeiling(dto.text);
    await this.users.reserveTokens(userId, heldTokens);
    try {
      const result = await this.llm.createEmbedding(dto.text, model, { transport: request.transport, userId, requestId: request.requestId });
      await this.prisma.$transaction(async (tx) => {
        const isCounted = idempotencyKey ? await this.records.exists(idempotencyKey, tx) : false;
        if (!isCounted) await this.records.create({ userId, model: result.model, tokens: result.tokens, idempotencyKey }, tx);
        await this.usersRepository.settleTokenUsage(userId, { tokens: isCounted ? null : result.tokens, heldTokens }, tx);
      });
      return { embedding: result.embedding, model: result.model, tokens: result.tokens };
    } catch (error) {
      await this.users.releaseTokens(userId, heldTokens);
      throw error;
    }
  }
}
