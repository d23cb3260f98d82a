import type { ConversationDetailResponseDto } from './dto/conversation.dto';

const ROLE_NAMES = { USER: 'User', ASSISTANT: 'Assistant', SYSTEM: 'System' } as const;

// A conversation's branch as Markdown: a heading per message (who, which model, when), its text as
// written (answers are Markdown already), and a note on answers that did not finish.
export function conversationMarkdown(conversation: ConversationDetailResponseDto): string {
  const lines = [`# ${oneLine(conversation.title ?? 'Untitled conversation')}`, ''];
  lines.push(`- Conversation: ${conversation.id}`, `- Created: ${iso(conversation.createdAt)}`);
  if (conversation.systemPrompt) lines.push(`- System prompt: ${oneLine(conversation.systemPrompt)}`);
  for (const message of conversation.messages) {
    const who = [ROLE_NAMES[message.role], message.model, iso(message.createdAt)].filter(Boolean).join(' · ');
    lines.push('', `## ${who}`, '', message.content);
    if (message.status !== 'complete') lines.push('', `_(${message.status === 'stopped' ? 'stopped before the end' : 'failed before the end'})_`);
  }
  return `${lines.join('\n')}\n`;
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
const iso = (date: Date | string) => new Date(date).toISOString();
