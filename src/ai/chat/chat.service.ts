import { Injectable } from '@nestjs/common';
import { NotFoundError, TokenLimitExceededError } from '../../common/errors/app-error';
import { AppConfigService } from '../../config/app-config.service';
import type { Message } from '../../generated/prisma/client';
import { TOKEN_HOLD_TTL_MS } from '../../users/users.constants';
import { UsersService } from '../../users/users.service';
import { TITLE_MAX_LENGTH } from '../ai.constants';
import { ConversationRepository } from '../conversations/conversation.repository';
import { ChatRequestDto } from '../dto/chat-request.dto';
import { ChatResponseDto } from '../dto/chat-response.dto';
import { llmNotConfigured } from '../llm/llm-error';
import { LlmMessage } from '../llm/llm.types';
import { OpenAiService } from '../llm/openai.service';
import { promptTokenCeiling } from '../llm/token-estimator';
import { ChatTurnRepository, HistoryMessage } from './chat-turn.repository';
import { ChatTurn, PreparedTurn, TurnOutcome, TurnRequest } from './chat-turn.types';

// One chat turn, shared by REST, the socket gateway and the job processor: pre-flight read (budget,
// ownership, history) → [model ∥ hold on the budget + user message] → answer stored with its tokens.
@Injectable()
export class ChatService {
  constructor(
    private readonly config: AppConfigService,
    private readonly users: UsersService,
    private readonly turns: ChatTurnRepository,
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
    const prepared = await this.prepareTurn(userId, dto, request);
    // The model is asked while the hold is taken and the question stored: that write adds no latency.
    const cancel = new AbortController();
    const completion = this.llm.generateCompletion(prepared.llmMessages, prepared.options, prepared.context, cancel.signal);
    // Awaited below; it must not count as unhandled while openTurn runs.
    completion.catch(() => undefined);
    const turn = await this.openTurn(prepared).catch((error: unknown) => {
      cancel.abort();
      throw error;
    });
    try {
      const result = await completion;
      return toChatResponse(await this.completeTurn(turn, { ...result, status: 'complete' }));
    } catch (error) {
      await this.abandonTurn(turn);
      throw error;
    }
  }

  // Everything the model call needs, in one read (in parallel with the caller's admission check):
  // 404 for a conversation that is not the user's, 403 when the budget is already spent, so neither
  // reaches the model. Nothing is held or stored yet.
  async prepareTurn(userId: string, dto: ChatRequestDto, request: TurnRequest): Promise<PreparedTurn> {
    // Awaited below; the early throw must not leave its rejection unhandled.
    request.admission?.catch(() => undefined);
    if (!this.llm.isConfigured) throw llmNotConfigured();
    const { idempotencyKey } = request;
    const conversationId = dto.conversationId ?? null;
    const [, turnContext, reusedUserMessage] = await Promise.all([
      request.admission,
      this.turns.findTurnContext(userId, conversationId, this.config.get('AI_HISTORY_LIMIT')),
      idempotencyKey ? this.conversationRepository.findMessageByIdempotencyKey(`${idempotencyKey}:user`) : null,
    ]);
    if (!turnContext) throw new NotFoundError('User');
    if (conversationId && !turnContext.conversationFound) throw new NotFoundError('Conversation');
    if (!turnContext.withinBudget) throw new TokenLimitExceededError();
    const history = reusedUserMessage ? turnContext.history.filter((m) => m.id !== reusedUserMessage.id) : turnContext.history;
    const llmMessages = this.buildPrompt(history, dto.message);
    const options = {
      model: dto.model ?? this.config.get('OPENAI_MODEL'),
      maxTokens: dto.maxTokens ?? this.config.get('OPENAI_MAX_TOKENS'),
      temperature: dto.temperature ?? this.config.get('OPENAI_TEMPERATURE'),
    };
    return {
      userId,
      conversationId,
      message: dto.message,
      llmMessages,
      options,
      // The upstream bills at most the prompt plus maxTokens.
      heldTokens: promptTokenCeiling(llmMessages) + options.maxTokens,
      context: { transport: request.transport, userId, requestId: request.requestId },
      idempotencyKey,
      reusedUserMessage,
    };
  }

  // Holds the turn's worst case against the budget and stores the user message, in one statement.
  // 403 when concurrent calls took what was left since the pre-flight, 404 when the conversation
  // went meanwhile. The caller ends the turn with completeTurn (which settles the hold) or abandonTurn.
  async openTurn(prepared: PreparedTurn): Promise<ChatTurn> {
    const { reusedUserMessage, conversationId, ...turn } = prepared;
    const isNewConversation = conversationId === null;
    if (reusedUserMessage) {
      await this.users.reserveTokens(turn.userId, turn.heldTokens);
      return { ...turn, conversationId: reusedUserMessage.conversationId, isNewConversation, userMessage: reusedUserMessage };
    }
    const message = { role: 'USER' as const, content: turn.message, idempotencyKey: turn.idempotencyKey ? `${turn.idempotencyKey}:user` : null };
    const target = isNewConversation ? { newConversationTitle: titleFrom(turn.message) } : { conversationId };
    const result = await this.turns.openTurn(turn.userId, target, message, turn.heldTokens, TOKEN_HOLD_TTL_MS);
    switch (result.outcome) {
      case 'opened':
        return { ...turn, conversationId: result.userMessage.conversationId, isNewConversation, userMessage: result.userMessage };
      case 'over-budget':
        throw new TokenLimitExceededError();
      case 'conversation-gone':
        await this.users.releaseTokens(turn.userId, turn.heldTokens);
        throw new NotFoundError('Conversation');
      case 'conversation-not-found':
        throw new NotFoundError('Conversation');
    }
  }

  // Stores the answer, adds its tokens to the user and returns the turn's hold in one SQL statement
  // (increments in SQL), so concurrent turns never lose tokens and a crash never stores one without
  // the other. A failed answer counts no tokens.
  async completeTurn(turn: ChatTurn, outcome: TurnOutcome): Promise<Message> {
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
    const stored = await this.turns.closeTurn(turn.userId, turn.conversationId, answer, turn.heldTokens);
    if (!stored) throw new NotFoundError('Conversation');
    return stored;
  }

  // A turn that ends with nothing to store (the model failed before any text) returns its hold.
  abandonTurn(turn: ChatTurn): Promise<void> {
    return this.users.releaseTokens(turn.userId, turn.heldTokens);
  }

  private buildPrompt(history: HistoryMessage[], userContent: string): LlmMessage[] {
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
