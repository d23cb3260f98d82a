// The socket namespace and its events: the streaming API's names, defined once.
export const AI_NAMESPACE = '/ai';

export const CHAT_EVENTS = {
  start: 'chat:start',
  stop: 'chat:stop',
  conversation: 'chat:conversation',
  userMessage: 'chat:user-message',
  message: 'chat:message',
  end: 'chat:end',
  stopped: 'chat:stopped',
  error: 'chat:error',
} as const;
