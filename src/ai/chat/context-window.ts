import { AppError } from '../../common/errors/app-error';
import { MESSAGE_OVERHEAD, PROMPT_OVERHEAD } from '../llm/token-estimator';

export interface FitInput<M> {
  // Oldest first, each with its length in tokens.
  history: { message: M; tokens: number }[];
  systemTokens: number | null;
  questionTokens: number;
  // What the prompt may take: the context window less the answer's maxTokens.
  promptBudget: number;
  modelId: string;
}

// The newest part of the history that fits the prompt budget beside the system prompt and the new
// question, which are always kept: the oldest messages go first. 400 when the question (with the
// system prompt) alone does not fit.
export function fitHistory<M>({ history, systemTokens, questionTokens, promptBudget, modelId }: FitInput<M>): M[] {
  let used = PROMPT_OVERHEAD + MESSAGE_OVERHEAD + questionTokens + (systemTokens === null ? 0 : MESSAGE_OVERHEAD + systemTokens);
  if (used > promptBudget) {
    throw new AppError(
      'VALIDATION_FAILED',
      `message is too long for model ${modelId}: ${used} tokens with the system prompt, ${Math.max(promptBudget, 0)} left by its context window after maxTokens`,
    );
  }
  let start = history.length;
  while (start > 0 && used + MESSAGE_OVERHEAD + history[start - 1].tokens <= promptBudget) {
    start -= 1;
    used += MESSAGE_OVERHEAD + history[start].tokens;
  }
  return history.slice(start).map((entry) => entry.message);
}
