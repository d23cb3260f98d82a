import { Injectable, Logger } from '@nestjs/common';
import { AppError, ContentFlaggedError } from '../../common/errors/app-error';
import { AppConfigService } from '../../config/app-config.service';
import type { ModerationMode } from '../../config/env.schema';
import { MetricsService } from '../../metrics/metrics.service';
import { LlmService } from '../llm/llm.service';
import type { CallContext, ModerationResult } from '../llm/llm.types';

// What the turn stores on a message: null when it was not checked (moderation off, or a check
// that failed in `flag` mode).
export type ModerationVerdict = ModerationResult | null;

// Checks user input bound for a model (AI_MODERATION) and, optionally, finished answers
// (AI_MODERATION_OUTPUT) with OpenAI's moderation endpoint. `block` fails closed: flagged input is
// a 400 and an unanswered check a 503, so nothing unchecked reaches the model. `flag` fails open:
// the turn goes on and the verdict, when there is one, is stored with the message. The
// configuration check (OpenAI configured when moderation is on) is validateEnv's.
@Injectable()
export class ModerationService {
  private readonly logger = new Logger(ModerationService.name);
  readonly mode: ModerationMode;
  readonly checksOutput: boolean;
  private readonly model: string;
  private readonly timeoutMs: number;

  constructor(
    config: AppConfigService,
    private readonly llm: LlmService,
    private readonly metrics: MetricsService,
  ) {
    this.mode = config.get('AI_MODERATION');
    this.checksOutput = config.get('AI_MODERATION_OUTPUT');
    this.model = config.get('AI_MODERATION_MODEL');
    this.timeoutMs = config.get('AI_MODERATION_TIMEOUT_MS');
  }

  // Throws ContentFlaggedError (400) or MODERATION_UNAVAILABLE (503) in `block` mode.
  async checkInput(text: string, context: CallContext): Promise<ModerationVerdict> {
    if (this.mode === 'off') return null;
    let result: ModerationResult;
    try {
      result = await this.llm.moderate(text, this.model, this.timeoutMs);
    } catch (error) {
      this.failed(error, 'input', context);
      if (this.mode === 'block') throw new AppError('MODERATION_UNAVAILABLE', 'Content moderation is unavailable; retry later');
      return null;
    }
    if (!result.flagged) {
      this.metrics.countModerationCheck('allowed');
      return result;
    }
    this.logger.log({ msg: 'input flagged', ...context, mode: this.mode, categories: result.categories });
    if (this.mode === 'block') {
      this.metrics.countModerationCheck('blocked');
      throw new ContentFlaggedError(result.categories);
    }
    this.metrics.countModerationCheck('flagged');
    return result;
  }

  // A finished answer: its verdict to store, or null (not checked, or the check failed). Never throws:
  // the user already has the answer.
  async checkOutput(text: string, context: CallContext): Promise<ModerationVerdict> {
    if (!this.checksOutput || !text) return null;
    try {
      const result = await this.llm.moderate(text, this.model, this.timeoutMs);
      this.metrics.countModerationCheck(result.flagged ? 'flagged' : 'allowed');
      if (result.flagged) this.logger.log({ msg: 'answer flagged', ...context, categories: result.categories });
      return result;
    } catch (error) {
      this.failed(error, 'output', context);
      return null;
    }
  }

  private failed(error: unknown, target: 'input' | 'output', context: CallContext): void {
    this.metrics.countModerationCheck('error');
    const code = error instanceof AppError ? error.code : undefined;
    const upstream = error instanceof AppError ? error.details : undefined;
    this.logger.warn({ msg: 'moderation check failed', ...context, target, mode: this.mode, code, upstream });
  }
}
