// Names shared across transports, defined once.
export const AI_TASKS_QUEUE = 'ai-tasks';
export const GENERATE_COMPLETION_JOB = 'generate-completion';
export const GENERATE_EMBEDDINGS_JOB = 'generate-embeddings';

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

export const TITLE_MAX_LENGTH = 80;
