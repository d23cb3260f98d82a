import type { LlmMessage } from '../llm.types';

export interface AlternatingTurns {
  system: string | undefined;
  // user, assistant, user, …, user.
  turns: { role: 'user' | 'assistant'; content: string }[];
}

// The shape Claude and Gemini require: the system prompt apart, then turns that alternate and
// start with the user. Consecutive messages of one role are joined; an answer at the head of the
// history window (its question fell out of the window) is dropped.
export function toAlternatingTurns(messages: LlmMessage[]): AlternatingTurns {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content);
  const turns: AlternatingTurns['turns'] = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    const last = turns.at(-1);
    if (last?.role === message.role) last.content = `${last.content}\n\n${message.content}`;
    else if (last || message.role === 'user') turns.push({ role: message.role, content: message.content });
  }
  return { system: system.length ? system.join('\n\n') : undefined, turns };
}
