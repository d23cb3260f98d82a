import { Injectable, Logger } from '@nestjs/common';
import { setImmediate as afterPendingTicks } from 'node:timers/promises';
import pLimit from 'p-limit';
import { BudgetService } from '../../budget/budget.service';
import { AppError, NotFoundError, TokenLimitExceededError } from '../../common/errors/app-error';
import { AppConfigService } from '../../config/app-config.service';
import type { Message, MessageStatus } from '../../generated/prisma/client';
import { AnsweredEvent, LlmService } from '../llm/llm.service';
import type { CallContext, LlmMessage, TokenUsage } from '../llm/llm.types';
import { estimateTextTokens, promptTokenCeiling } from '../llm/token-estimator';
import { ModelRegistry } from '../models/model-registry.service';
import { ModerationService, type ModerationVerdict } from '../moderation/moderation.service';
import { KnowledgeService, type RetrievedChunk } from '../knowledge/knowledge.service';
import { PromptsService } from '../prompts/prompts.service';
import type { RegisteredModel } from '../models/model.types';
import { ChatTurnRepository } from './chat-turn.repository';
import { TitleScheduler } from '../titles/title-scheduler';
import { Citation, HistoryMessage, TurnAnchor, TurnContext, TurnEvent, TurnRequest } from './chat-turn.types';
import { KNOWLEDGE_TOP_K_DEFAULT, KnowledgeOptionsDto } from './dto/knowledge-options.dto';
import { fitHistory } from './context-window';
import { titleFrom } from './conversation-title';

// Turns' database phases that may run at once: below the pool size (20), so a burst of turns waits
// here in memory instead of timing out for a connection.
const DB_PHASE_CONCURRENCY = 16;

// A turn after its first read: what the model will be asked, before anything is held or stored.
interface PreparedTurn {
  userId: string;
  // Null: the turn starts a new conversation.
  conversationId: string | null;
  message: string;
  // The message the question follows in the conversation's tree (null: the first).
  parentId: string | null;
  // The question's length in tokens, stored with it.
  messageTokens: number;
  llmMessages: LlmMessage[];
  model: RegisteredModel;
  maxTokens: number;
  temperature: number;
  // The worst case held against the budget until the turn ends: the upstream bills at most the
  // prompt plus maxTokens.
  heldTokens: number;
  context: CallContext;
  idempotencyKey?: string;
  // A job retry's question, stored by an earlier attempt, or the question of a regenerated answer.
  reusedUserMessage: Message | null;
  inputModeration: ModerationVerdict;
  // The sources of a retrieval-augmented turn, as the answer cites them; null: no knowledge asked.
  citations: Citation[] | null;
}

// A turn between "question stored" and "answer stored".
interface OpenTurn {
  userId: string;
  conversationId: string;
  isNewConversation: boolean;
  userMessage: Message;
  heldTokens: number;
  // The model asked first; a fallback's answer names its own.
  model: string;
  idempotencyKey?: string;
  context: CallContext;
  citations: Citation[] | null;
  // The question's text, for a new conversation's title.
  question: string;
}

interface Answer {
  content: string;
  model: string;
  // Null: nothing to count (a failed answer).
  usage: TokenUsage | null;
  costUsd: number | null;
  status: MessageStatus;
  moderation?: ModerationVerdict;
}

type Completion = AsyncGenerator<AnsweredEvent>;

// Where a chat turn runs, for every transport: REST and jobs collect its events, the socket gateway
// emits them. Three statements per turn, whatever its length:
//   1. one read: budget, ownership and history (a 403 or 404 never reaches the model), beside the
//      transport's admission check (the rate limit);
//   2. the model is asked while one statement holds the turn's worst case against the budget and
//      stores the question, so that write adds no latency;
//   3. the answer passes through as `delta` events (nothing is written per chunk), then one
//      statement stores it and settles the budget with the upstream's token count.
// A stop keeps the partial answer as `stopped` (its tokens counted); a failure after some text keeps
// it as `failed` (no tokens); a failure before any text stores no answer. Every path returns the hold.
@Injectable()
export class ChatTurnRunner {
  private readonly logger = new Logger(ChatTurnRunner.name);
  private readonly dbPhase = pLimit(DB_PHASE_CONCURRENCY);

  constructor(
    private readonly config: AppConfigService,
    private readonly budget: BudgetService,
    private readonly turns: ChatTurnRepository,
    private readonly llm: LlmService,
    private readonly models: ModelRegistry,
    private readonly moderation: ModerationService,
    private readonly prompts: PromptsService,
    private readonly knowledge: KnowledgeService,
    private readonly titles: TitleScheduler,
  ) {}

  async *run(request: TurnRequest): AsyncGenerator<TurnEvent> {
    // Awaited with the first read; an earlier throw must not leave its rejection unhandled.
    request.admission?.catch(() => undefined);
    if (request.idempotencyKey) {
      const answered = await this.turns.findMessageByIdempotencyKey(answerKey(request.idempotencyKey));
      if (answered) {
        yield { type: 'end', message: answered };
        return;
      }
    }
    const prepared = await this.prepare(request);
    const cancel = new AbortController();
    const signal = request.signal ? AbortSignal.any([request.signal, cancel.signal]) : cancel.signal;
    const completion = this.llm.complete(prepared.model, {
      messages: prepared.llmMessages,
      maxTokens: prepared.maxTokens,
      temperature: prepared.temperature,
      isStreamed: request.isStreamed,
      signal,
      context: prepared.context,
    });
    // The first next() sends the request, so it is on its way while the hold is taken and the
    // question stored; no event leaves before that write, so their order is unchanged. The SDK
    // writes the request within the ticks that follow; the statement is built and sent after them,
    // so that its CPU does not delay the upstream's first byte.
    const first = completion.next();
    first.catch(() => undefined);
    let turn: OpenTurn;
    try {
      await afterPendingTicks();
      turn = await this.dbPhase(() => this.open(prepared));
    } catch (error) {
      cancel.abort();
      await first.catch(() => undefined);
      await completion.return(undefined);
      throw error;
    }
    yield* this.relay(turn, first, completion, cancel);
  }

  private async *relay(turn: OpenTurn, first: Promise<IteratorResult<AnsweredEvent>>, completion: Completion, cancel: AbortController): AsyncGenerator<TurnEvent> {
    let text = '';
    let isEnded = false;
    try {
      if (turn.isNewConversation) yield { type: 'conversation', conversationId: turn.conversationId };
      yield { type: 'user-message', message: turn.userMessage };
      let end: Extract<AnsweredEvent, { type: 'end' }> | undefined;
      for (let next = await first; !next.done; next = await completion.next()) {
        const event = next.value;
        if (event.type === 'end') {
          end = event;
        } else {
          text += event.content;
          yield event;
        }
      }
      if (!end) throw new AppError('LLM_UNAVAILABLE', 'The AI stream ended without a result');
      const status = end.isAborted ? 'stopped' : 'complete';
      const moderation = status === 'complete' ? await this.moderation.checkOutput(text, turn.context) : null;
      const message = await this.dbPhase(() => this.close(turn, { content: text, model: end.modelId, usage: end.usage, costUsd: end.costUsd, status, moderation }));
      isEnded = true;
      if (turn.isNewConversation && status === 'complete')
        this.titles.schedule({ userId: turn.userId, conversationId: turn.conversationId, expectedTitle: titleFrom(turn.question) });
      yield { type: end.isAborted ? 'stopped' : 'end', message };
    } catch (error) {
      isEnded = true;
      await this.keepPartialAnswer(turn, text);
      throw error;
    } finally {
      // The transport stopped reading before the turn ended: stop the upstream, store nothing more.
      if (!isEnded) {
        cancel.abort();
        await completion.return(undefined);
        await this.budget.release(turn.userId, turn.heldTokens);
      }
    }
  }

  private async prepare({ userId, input, transport, requestId, idempotencyKey, admission, inputModeration, regenerate }: TurnRequest): Promise<PreparedTurn> {
    const model = this.models.resolve(input.model, 'chat');
    const conversationId = input.conversationId ?? null;
    const callContext: CallContext = { transport, userId, requestId };
    const anchor: TurnAnchor = regenerate
      ? { kind: 'regenerate', messageId: regenerate.messageId }
      : input.parentMessageId
        ? { kind: 'parent', messageId: input.parentMessageId }
        : { kind: 'newest' };
    // The message (a template rendered) and then its moderation run beside the read, so their
    // latency hides behind it instead of adding to it. A regenerated answer has no new input: its
    // question comes from the read and was checked when it was asked.
    const checkedMessage: Promise<{ message: string | null; moderation: ModerationVerdict }> = regenerate
      ? Promise.resolve({ message: null, moderation: null })
      : this.prompts
          .messageOf(userId, input)
          .then(async (message) => ({ message, moderation: inputModeration !== undefined ? inputModeration : await this.moderation.checkInput(message, callContext) }));
    // Only the read takes a database-phase slot: the calls to other services (rate limit,
    // moderation, and further down the query's embedding) must not hold one while they wait.
    const [, [context, retriedQuestion], checked] = await Promise.all([
      admission,
      this.dbPhase(() =>
        Promise.all([
          this.turns.findTurnContext(conversationId, userId, this.config.get('AI_HISTORY_LIMIT'), this.budget.standingOf(userId), anchor),
          idempotencyKey ? this.turns.findMessageByIdempotencyKey(questionKey(idempotencyKey)) : null,
        ]),
      ),
      checkedMessage,
    ]);
    if (!context) throw new NotFoundError('User');
    if (conversationId && !context.conversationFound) throw new NotFoundError('Conversation');
    if (anchor.kind !== 'newest' && !context.anchor) throw new NotFoundError('Message');
    const {
      message,
      history: path,
      reusedUserMessage,
    } = regenerate ? regeneratedQuestion(context) : { ...checked, history: context.history, reusedUserMessage: retriedQuestion };
    const moderation = checked.moderation;
    if (message === null) throw new AppError('VALIDATION_FAILED', 'The turn has no question');
    if (!context.withinBudget) throw new TokenLimitExceededError();
    // The default answer length is OPENAI_MAX_TOKENS, or the model's largest output when that is less.
    const maxTokens = input.maxTokens ?? Math.min(this.config.get('OPENAI_MAX_TOKENS'), model.maxOutputTokens ?? Infinity);
    const messageTokens = reusedUserMessage?.contentTokens ?? estimateTextTokens(message);
    // A failed answer is partial text the user never got in full; it would mislead the model.
    const history = path.filter((m) => m.status !== 'failed' && m.id !== reusedUserMessage?.id);
    // Retrieval runs once the turn is admitted (the read above), so a refused turn never counts the
    // query's embedding.
    const sources = input.knowledge ? await this.retrieve(userId, message, input.knowledge, callContext) : null;
    const systemPrompt = context.systemPrompt ?? this.config.get('AI_SYSTEM_PROMPT') ?? null;
    const sourcesPrompt = sources?.length ? sourcesMessage(sources) : null;
    const fitted = this.fitToContext(history, [systemPrompt, sourcesPrompt], messageTokens, model, maxTokens);
    const llmMessages = this.buildPrompt(systemPrompt, fitted, sourcesPrompt, message);
    return {
      userId,
      conversationId,
      message,
      parentId: context.anchor?.id ?? null,
      messageTokens,
      llmMessages,
      model,
      maxTokens,
      temperature: input.temperature ?? this.config.get('OPENAI_TEMPERATURE'),
      heldTokens: promptTokenCeiling(llmMessages) + maxTokens,
      context: callContext,
      idempotencyKey,
      reusedUserMessage,
      inputModeration: moderation,
      citations: sources?.map(({ documentId, documentTitle, chunkId, score }, i) => ({ index: i + 1, documentId, documentTitle, chunkId, score })) ?? null,
    };
  }

  // Holds the worst case and stores the question in one statement: 403 when concurrent calls took
  // what was left since the read, 404 when the conversation went meanwhile.
  private async open(prepared: PreparedTurn): Promise<OpenTurn> {
    const { userId, conversationId, heldTokens, idempotencyKey, reusedUserMessage, inputModeration } = prepared;
    const isNewConversation = conversationId === null;
    const turn = {
      userId,
      isNewConversation,
      heldTokens,
      model: prepared.model.id,
      idempotencyKey,
      context: prepared.context,
      citations: prepared.citations,
      question: prepared.message,
    };
    if (reusedUserMessage) {
      await this.budget.reserve(userId, heldTokens);
      return { ...turn, conversationId: reusedUserMessage.conversationId, userMessage: reusedUserMessage };
    }
    const result = await this.turns.openTurn({
      userId,
      conversationId,
      newConversationTitle: isNewConversation ? titleFrom(prepared.message) : null,
      message: {
        parentId: prepared.parentId,
        role: 'USER',
        content: prepared.message,
        contentTokens: prepared.messageTokens,
        idempotencyKey: idempotencyKey ? questionKey(idempotencyKey) : null,
        flagged: inputModeration?.flagged ?? false,
        categories: inputModeration?.categories ?? [],
      },
      hold: this.budget.holdOf(userId, heldTokens),
    });
    switch (result.outcome) {
      case 'opened':
        return { ...turn, conversationId: result.userMessage.conversationId, userMessage: result.userMessage };
      case 'over-budget':
        throw new TokenLimitExceededError();
      case 'conversation-gone':
        await this.budget.release(userId, heldTokens);
        throw new NotFoundError('Conversation');
      case 'conversation-not-found':
        throw new NotFoundError('Conversation');
    }
  }

  // Stores the answer and settles the budget in one statement. A failed answer counts no tokens.
  private async close(turn: OpenTurn, { content, model, usage, costUsd, status, moderation }: Answer): Promise<Message> {
    const idempotencyKey = turn.idempotencyKey ? answerKey(turn.idempotencyKey) : null;
    const counted = usage && {
      kind: 'chat' as const,
      model,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      totalTokens: usage.totalTokens,
      costUsd,
    };
    const stored = await this.turns.closeTurn({
      conversationId: turn.conversationId,
      answer: {
        parentId: turn.userMessage.id,
        role: 'ASSISTANT',
        content,
        promptTokens: usage?.promptTokens ?? null,
        completionTokens: usage?.completionTokens ?? null,
        contentTokens: usage?.completionTokens ?? null,
        tokens: usage?.totalTokens ?? null,
        costUsd: usage ? costUsd : null,
        tokensEstimated: usage?.isEstimated ?? false,
        model,
        status,
        idempotencyKey,
        flagged: moderation?.flagged ?? false,
        categories: moderation?.categories ?? [],
        citations: turn.citations,
      },
      settlement: this.budget.settlementOf(turn.userId, { heldTokens: turn.heldTokens, usage: counted, idempotencyKey }),
    });
    if (!stored) throw new NotFoundError('Conversation');
    return stored;
  }

  // The upstream failed mid-answer: what the user already saw is stored as `failed`. Either way the
  // hold goes back.
  private async keepPartialAnswer(turn: OpenTurn, text: string): Promise<void> {
    if (!text) return this.budget.release(turn.userId, turn.heldTokens);
    await this.close(turn, { content: text, model: turn.model, usage: null, costUsd: null, status: 'failed' }).catch((error: unknown) => {
      this.logger.error({ err: error, conversationId: turn.conversationId }, 'could not store a failed partial answer');
      return this.budget.release(turn.userId, turn.heldTokens);
    });
  }

  // The history the model's context window leaves room for, counted with the lengths stored with
  // each message. Counts are OpenAI's (o200k_base); for other providers, the best offline count
  // there is, with a 10% margin. A model whose window is unknown gets the history as it is.
  // `system`: the system messages that go with every prompt (the system prompt, a turn's sources).
  private fitToContext(history: HistoryMessage[], system: (string | null)[], messageTokens: number, model: RegisteredModel, maxTokens: number): HistoryMessage[] {
    if (model.contextWindow === null) return history;
    const margin = model.provider === 'openai' ? 1 : 1.1;
    const tokens = (count: number) => Math.ceil(count * margin);
    const systemMessages = system.filter((text): text is string => text !== null);
    return fitHistory({
      history: history.map((message) => ({ message, tokens: tokens(message.contentTokens ?? estimateTextTokens(message.content)) })),
      systemTokens: systemMessages.length ? tokens(systemMessages.reduce((sum, text) => sum + this.systemPromptTokens(text), 0)) : null,
      questionTokens: tokens(messageTokens),
      promptBudget: model.contextWindow - maxTokens,
      modelId: model.id,
    });
  }

  // The service-wide prompt is counted once; a conversation's own prompt on each of its turns.
  private systemPromptTokens(systemPrompt: string): number {
    if (systemPrompt !== this.config.get('AI_SYSTEM_PROMPT')) return estimateTextTokens(systemPrompt);
    this.cachedSystemPromptTokens ??= estimateTextTokens(systemPrompt);
    return this.cachedSystemPromptTokens;
  }

  private cachedSystemPromptTokens?: number;

  private retrieve(userId: string, query: string, knowledge: true | KnowledgeOptionsDto, context: CallContext): Promise<RetrievedChunk[]> {
    const { documentIds, topK = KNOWLEDGE_TOP_K_DEFAULT } = knowledge === true ? {} : knowledge;
    return this.knowledge.retrieve(userId, query, { documentIds, topK }, context);
  }

  private buildPrompt(systemPrompt: string | null, history: HistoryMessage[], sourcesPrompt: string | null, userContent: string): LlmMessage[] {
    const prompt: LlmMessage[] = systemPrompt ? [{ role: 'system', content: systemPrompt }] : [];
    for (const message of history) {
      prompt.push({ role: message.role === 'USER' ? 'user' : message.role === 'SYSTEM' ? 'system' : 'assistant', content: message.content });
    }
    // Right before the question, where the model weighs it most; Claude and Gemini take it with the
    // system prompt (their APIs have one system slot).
    if (sourcesPrompt) prompt.push({ role: 'system', content: sourcesPrompt });
    prompt.push({ role: 'user', content: userContent });
    return prompt;
  }
}

// A regenerated answer's question (the path's end, read with the answer's parent) and the history
// before it: 400 unless the message is an answer to a question.
function regeneratedQuestion(context: TurnContext): { message: string; history: HistoryMessage[]; reusedUserMessage: Message } {
  if (context.anchor?.role !== 'ASSISTANT') throw new AppError('VALIDATION_FAILED', 'Only an assistant message can be regenerated');
  const question = context.regeneratedQuestion;
  if (question?.role !== 'USER') throw new AppError('VALIDATION_FAILED', 'This answer does not follow a user message, so it cannot be regenerated');
  return { message: question.content, history: context.history.slice(0, -1), reusedUserMessage: question };
}

// The retrieved chunks as numbered sources, with how to cite them.
function sourcesMessage(sources: RetrievedChunk[]): string {
  const numbered = sources.map((source, i) => `[${i + 1}] ${source.documentTitle}\n${source.content}`);
  return ['Answer from the numbered sources below where they are relevant, and cite each one you use as [n]. If they do not hold the answer, say so.', ...numbered].join(
    '\n\n',
  );
}

const questionKey = (idempotencyKey: string) => `${idempotencyKey}:user`;
const answerKey = (idempotencyKey: string) => `${idempotencyKey}:assistant`;
