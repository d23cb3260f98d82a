import { TITLE_MAX_LENGTH } from './chat.constants';

// The title of a conversation started by `message`: its text on one line, cut with an ellipsis.
export function titleFrom(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length <= TITLE_MAX_LENGTH ? oneLine : `${oneLine.slice(0, TITLE_MAX_LENGTH - 1).trimEnd()}…`;
}
