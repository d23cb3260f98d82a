import type { LlmMessage } from './llm.types';

// Tokens per chat message for the role/separator framing (OpenAI's published figure).
const MESSAGE_OVERHEAD = 4;

type Encoder = { countTokens(text: string): number };
let encoder: Encoder | undefined;

// gpt-tokenizer's tables are large: load them on the first estimate, not at boot.
function getEncoder(): Encoder {
  encoder ??= require('gpt-tokenizer') as Encoder;
  return encoder;
}

export function estimateTextTokens(text: string): number {
  return text ? getEncoder().countTokens(text) : 0;
}

export function estimatePromptTokens(messages: LlmMessage[]): number {
  return messages.reduce((sum, message) => sum + MESSAGE_OVERHEAD + estimateTextTokens(message.content), 3);
}
