import { Injectable } from '@nestjs/common';
import { AppConfigService } from '../../config/app-config.service';
import type { Message } from '../../generated/prisma/client';
import { UsersRepository } from '../../users/users.repository';
import { UsersService } from '../../users/users.service';
import { TITLE_MAX_LENGTH } from '../ai.constants';
import { ConversationRepository } from '../conversations/conversation.repository';
import { ConversationService } from '../conversations/conversation.service';
import { ChatRequestDto } from '../dto/chat-request.dto';
import { ChatResponseDto } from '../dto/chat-response.dto';
import { llmNotConfigured } from '../llm/llm-error';
import { LlmMessage } from '../llm/llm.types';
import { OpenAiService } from '../llm/openai.service';
import { promptTokenCeiling } from '../llm/token-estimator';
import { ChatTurn, TurnOutcome, TurnRequest } from './chat-turn.types';

// One chat turn, shared by REST, the socket gateway and the job processor:
// history → hold on the budget → store the user message → model → store the answer and count its tokens.
@Injectable()
export class ChatService {
  constructor(
    private readonly config: AppConfigService,
    private readonly users: UsersService,
    private readonly usersRepository: UsersRepository,
    private readonly conversations: ConversationService,
    private readonly conversationRepository: ConversationRepository,
    private readonly llm: OpenAiService,
  ) {}

  // `idempotencyKey` (jobs): a retry reuses the stored user message and, when the answer was
  // already stored, returns it without calling the model or counting tokens again.
  async sendMessage(userId: string, dto: ChatRequestDto, request: TurnRequest = { transport: 'rest' }): Promise<ChatResponseDto> {
    const { idempotencyKey } = request;
    if (idempotencyKey) {
      const answered = await this.conversationRepository.findMessageByIdempotencyKey(`${idempotencyKey}:assistant`);
      if (answered) return toChatResponse(answered);
    }
    const turn = await this.beginTurn(userId, dto, request);
    try {
      const result = await this.llm.generateCompletion(turn.llmMessages, turn.options, turn.context);
      return toChatResponse(await this.completeTurn(turn, { ...result, status: 'complete' }));
    } catch (error) {
      await this.abandonTurn(turn);
      throw error;
    }
  }

  // Ownership and history → hold the turn's worst case against the budget → store the user message.
  // The caller ends the turn with completeTurn (which settles the hold) or abandonTurn.
  async beginTurn(userId: string, dto: ChatRequestDto, request: TurnRequest): Promise<ChatTurn> {
    // Awaited below; the early throw must not leave its rejection unhandled.
    request.admission?.catch(() => undefined);
    if (!this.llm.isConfigured) throw llmNotConfigured();
    const { idempotencyKey } = request;
    const conversationId = dto.conversationId ?? undefined;
    const historyLimit = this.config.get('AI_HISTORY_LIMIT');
    // Independent reads run together: they bound the latency added before the model is called.
    const [, , history, reusedUserMessage] = await Promise.all([
      request.admission,
      conversationId ? this.conversations.assertOwnedBy(conversationId, userId) : undefined,
      conversationId ? this.conversations.getConversationHistory(conversationId, userId, historyLimit) : [],
      idempotencyKey ? this.conversationRepository.findMessageByIdempotencyKey(`${idempotencyKey}:user`) : null,
    ]);
    const priorMessages = reusedUserMessage ? history.filter((m) => m.id !== reusedUserMessage.id) : history;
    const llmMessages = this.buildPrompt(priorMessages, dto.message);
    const options = {
      model: dto.model ?? this.config.get('OPENAI_MODEL'),
      maxTokens: dto.maxTokens ?? this.config.get('OPENAI_MAX_TOKENS'),
      temperature: dto.temperature ?? this.config.get('OPENAI_TEMPERATURE'),
    };
    // The upstream bills at most the prompt plus maxTokens: held before anything is stored.
    const heldTokens = promptTokenCeiling(llmMessages) + options.maxTokens;
    await this.users.reserveTokens(userId, heldTokens);
    const userMessage = reusedUserMessage ?? (await this.storeUserMessage(userId, dto, idempotencyKey).catch(async (error: unknown) => {
      await this.users.releaseTokens(userId, heldTokens);
      throw error;
    }));
    return {
      userId,
      conversationId: userMessage.conversationId,
      isNewConversation: !conversationId,
      userMessage,
      llmMessages,
      options,
      heldTokens,
      context: { transport: request.transport, userId, requestId: request.requestId },
      idempotencyKey,
    };
  }

  // Stores the answer, adds its tokens to the user and returns the turn's hold in one SQL statement
  // (increments in SQL), so concurrent turns never lose tokens and a crash never stores one without
  // the other. A failed answer counts no tokens.
  completeTurn(turn: ChatTurn, outcome: TurnOutcome): Promise<Message> {
    const tokens = outcome.status === 'failed' ? null : outcome.usage.totalTokens;
    const answer = {
      role: 'ASSISTANT' as const,
      content: outcome.content,
      tokens,
      tokensEstimated: tokens !== null && outcome.usage.isEstimated,
      model: outcome.model,
      status: outcome.status,
      idempotencyKey: turn.idempotencyKey ? `${turn.idempotencyKey}:assistant` : null,
    };
    return this.conversationRepository.appendMessage(turn.conversationId, answer, (conversationExists) =>
      this.usersRepository.settleTokenUsageSql(turn.userId, { tokens, heldTokens: turn.heldTokens }, conversationExists),
    );
  }

  // A turn that ends with nothing to store (the model failed before any text) returns its hold.
  abandonTurn(turn: ChatTurn): Promise<void> {
    return this.users.releaseTokens(turn.userId, turn.heldTokens);
  }

  private async storeUserMessage(userId: string, dto: ChatRequestDto, idempotencyKey?: string): Promise<Message> {
    const message = {
      role: 'USER' as const,
      content: dto.message,
      idempotencyKey: idempotencyKey ? `${idempotencyKey}:user` : null,
    };
    if (dto.conversationId) return this.conversationRepository.appendMessage(dto.conversationId, message);
    return this.conversationRepository.createWithMessage(userId, titleFrom(dto.message), message);
  }

  private buildPrompt(history: Message[], userContent: string): LlmMessage[] {
    const systemPrompt = this.config.get('AI_SYSTEM_PROMPT');
    const prompt: LlmMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }] : [];
    for (const message of history) {
      // A failed answer is partial text the user never got in full; it would mislead the model.
      if (message.status === 'failed') continue;
      prompt.push({ role: message.role === 'USER' ? 'user' : message.role === 'SYSTEM' ? 'system' : 'assistant', content: message.content });
    }
    prompt.push({ role: 'user', content: userContent });
    return prompt;
  }
}

export function titleFrom(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length <= TITLE_MAX_LENGTH ? oneLine : `${oneLine.slice(0, TITLE_MAX_LENGTH - 1).trimEnd()}…`;
}

const toChatResponse = (message: Message): ChatResponseDto => ({
  conversationId: message.conversationId,
  messageId: message.id,
  content: message.content,
  model: message.model ?? '',
  tokens: message.tokens ?? 0,
  createdAt: message.createdAt,
});
