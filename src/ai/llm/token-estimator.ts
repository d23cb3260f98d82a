import type { LlmMessage } from './llm.types';

// Tokens per chat message for the role/separator framing, and for priming the reply (OpenAI's
// published figures).
export const MESSAGE_OVERHEAD = 4;
export const PROMPT_OVERHEAD = 3;

type Encoder = { countTokens(text: string): number };
let encoder: Encoder | undefined;

// gpt-tokenizer's default encoding (o200k_base, OpenAI's current models). Its tables are large
// (~65 MB): loaded on the first count, not at boot.
function getEncoder(): Encoder {
  encoder ??= require('gpt-tokenizer') as Encoder;
  return encoder;
}

export function estimateTextTokens(text: string): number {
  return text ? getEncoder().countTokens(text) : 0;
}

export function estimatePromptTokens(messages: LlmMessage[]): number {
  return messages.reduce((sum, message) => sum + MESSAGE_OVERHEAD + estimateTextTokens(message.content), PROMPT_OVERHEAD);
}

// Upper bounds, for the holds on the token budget (UsersService.reserveTokens) rather than for
// counting: byte-level BPE tokenizers (OpenAI's) and byte-fallback ones (Llama's) never spend less
// than one UTF-8 byte per token, and the allowance covers chat templates' framing and special tokens.
const FRAMING_CEILING = 16;

export function textTokenCeiling(text: string): number {
  return Buffer.byteLength(text, 'utf8') + FRAMING_CEILING;
}

export function promptTokenCeiling(messages: LlmMessage[]): number {
  return messages.reduce((sum, message) => sum + textTokenCeiling(message.content), FRAMING_CEILING);
}
