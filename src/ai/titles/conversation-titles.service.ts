import { Injectable } from '@nestjs/common';
import { BudgetService } from '../../budget/budget.service';
import { AppError } from '../../common/errors/app-error';
import { UserEventsPublisher } from '../../realtime/user-events.publisher';
import { LlmService } from '../llm/llm.service';
import type { CallContext, LlmMessage } from '../llm/llm.types';
import { promptTokenCeiling } from '../llm/token-estimator';
import { ModelRegistry } from '../models/model-registry.service';
import { ConversationTitlesRepository } from './conversation-titles.repository';
import { CONVERSATION_TITLE_EVENT, MODEL_TITLE_MAX_LENGTH, TITLE_EXCERPT_CHARS, TITLE_MAX_TOKENS, TitleJobData, TitleJobResult } from './titles.constants';

const TITLE_INSTRUCTION =
  'Write a short title (at most six words) for the conversation below, in the language of the question. Answer with the title alone: no quotes, no final full stop.';
const TITLE_TEMPERATURE = 0.3;

// Names a conversation with the default model, like any AI call of its owner: the worst case is
// held against the budget first and the real usage counted after (kind `title` in the ledger), once
// per job even when the job is retried. The new title reaches the owner's sockets on every instance.
@Injectable()
export class ConversationTitlesService {
  constructor(
    private readonly titles: ConversationTitlesRepository,
    private readonly budget: BudgetService,
    private readonly llm: LlmService,
    private readonly models: ModelRegistry,
    private readonly events: UserEventsPublisher,
  ) {}

  async generate({ userId, conversationId, expectedTitle }: TitleJobData, attempt: { requestId: string; idempotencyKey: string }): Promise<TitleJobResult> {
    const source = await this.titles.findSource(conversationId, userId);
    // Deleted, renamed by the user, or nothing answered to name it by: nothing to do.
    if (!source || source.title !== expectedTitle || !source.question || !source.answer) return { title: null };
    const model = this.models.resolve(undefined, 'chat');
    const messages: LlmMessage[] = [
      { role: 'system', content: TITLE_INSTRUCTION },
      { role: 'user', content: `Question: ${excerpt(source.question)}\n\nAnswer: ${excerpt(source.answer)}` },
    ];
    const heldTokens = promptTokenCeiling(messages) + TITLE_MAX_TOKENS;
    await this.budget.reserve(userId, heldTokens);
    const context: CallContext = { transport: 'job', userId, requestId: attempt.requestId };
    let text = '';
    let end: { modelId: string; usage: { promptTokens: number; completionTokens: number; totalTokens: number }; costUsd: number | null } | undefined;
    try {
      const completion = this.llm.complete(model, {
        messages,
        maxTokens: TITLE_MAX_TOKENS,
        temperature: TITLE_TEMPERATURE,
        isStreamed: false,
        signal: new AbortController().signal,
        context,
      });
      for await (const event of completion) {
        if (event.type === 'delta') text += event.content;
        else end = event;
      }
      if (!end) throw new AppError('LLM_UNAVAILABLE', 'The AI call ended without a result');
    } catch (error) {
      await this.budget.release(userId, heldTokens);
      throw error;
    }
    const { usage } = end;
    await this.budget.settle(userId, {
      heldTokens,
      usage: {
        kind: 'title',
        model: end.modelId,
        promptTokens: usage.promptTokens,
        completionTokens: usage.completionTokens,
        totalTokens: usage.totalTokens,
        costUsd: end.costUsd,
      },
      idempotencyKey: `${attempt.idempotencyKey}:title`,
    });
    const title = cleanTitle(text);
    if (!title || !(await this.titles.replaceTitle(conversationId, userId, expectedTitle, title))) return { title: null };
    this.events.emitToUser(userId, CONVERSATION_TITLE_EVENT, { conversationId, title });
    return { title };
  }
}

const excerpt = (text: string) => (text.length <= TITLE_EXCERPT_CHARS ? text : `${text.slice(0, TITLE_EXCERPT_CHARS)}…`);

// The model's answer as a title: its first non-empty line, without the quotes, markdown or
// "Title:" prefix models like to add, cut like a first-message title.
export function cleanTitle(text: string): string {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (!line) return '';
  const unquote = (text: string) => text.replace(/^["'“”‘’*_`]+|["'“”‘’*_`]+$/g, '').trim();
  const bare = unquote(unquote(line.replace(/^#+\s*/, '')).replace(/^title\s*:\s*/i, ''))
    .replace(/\.$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return bare.length <= MODEL_TITLE_MAX_LENGTH ? bare : `${bare.slice(0, MODEL_TITLE_MAX_LENGTH - 1).trimEnd()}…`;
}
