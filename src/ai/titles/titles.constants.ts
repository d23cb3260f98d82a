// The job that writes a conversation's title (on the `ai-tasks` queue) and the socket event that
// announces it to the owner.
export const GENERATE_TITLE_JOB = 'generate-title';
export const CONVERSATION_TITLE_EVENT = 'conversation:title';

// Model-written titles are cut to the length of the first-message ones.
export const MODEL_TITLE_MAX_LENGTH = 80;
// The title call's answer length: a short title is a handful of tokens.
export const TITLE_MAX_TOKENS = 32;
// How much of the question and the answer the model reads to name the conversation.
export const TITLE_EXCERPT_CHARS = 2_000;

// What the job carries: the conversation and the title it had when the job was queued (the first
// message's); a different title by then means the user named it, and the job leaves it alone.
export interface TitleJobData {
  userId: string;
  conversationId: string;
  expectedTitle: string | null;
}

// The title stored, or null when there was nothing to do (renamed, deleted, an empty answer).
export interface TitleJobResult {
  title: string | null;
}
