// The chat events of the socket namespace (src/realtime/realtime.constants.ts): the streaming API's
// names, defined once.

export const CHAT_EVENTS = {
  start: 'chat:start',
  regenerate: 'chat:regenerate',
  stop: 'chat:stop',
  conversation: 'chat:conversation',
  userMessage: 'chat:user-message',
  message: 'chat:message',
  end: 'chat:end',
  stopped: 'chat:stopped',
  error: 'chat:error',
} as const;
