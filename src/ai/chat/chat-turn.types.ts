import type { Message, MessageStatus, Role } from '../../generated/prisma/client';
import type { AiTransport } from '../llm/llm.types';
import type { ModerationVerdict } from '../moderation/moderation.service';
import type { ChatRequestDto } from './dto/chat-request.dto';

// What a transport asks of the turn runner.
export interface TurnRequest {
  userId: string;
  input: ChatRequestDto;
  transport: AiTransport;
  // Stream the answer as the upstream writes it (socket) or take it in one piece (REST, jobs).
  isStreamed: boolean;
  // Stops the turn: the upstream request is aborted and the partial answer stored as `stopped`.
  signal?: AbortSignal;
  // Correlates the turn's log lines (an HTTP request id, a stream id, a job id).
  requestId?: string;
  // Jobs: ties every attempt of one job to the rows it stores, so a retry reuses the stored
  // question, and an answer already stored is returned without calling the model or counting again.
  idempotencyKey?: string;
  // A check that must pass before anything is held or stored (the rate limit), awaited together
  // with the turn's first read instead of before it.
  admission?: Promise<void>;
  // The input's moderation verdict when it was checked before the turn (jobs, at enqueue); the
  // turn checks it itself when this is undefined.
  inputModeration?: ModerationVerdict;
  // Answer the question of this assistant message again (`input.conversationId` is its
  // conversation; `input` carries only model settings): a new answer beside it, no new question.
  regenerate?: { messageId: string };
}

// What a turn tells its transport, in this order: `conversation` (only when the turn created one),
// `user-message`, any number of `delta`, then exactly one of `end` and `stopped`. A failure is
// thrown instead, after the turn has stored what it must (see ChatTurnRunner).
export type TurnEvent =
  | { type: 'conversation'; conversationId: string }
  | { type: 'user-message'; message: Message }
  | { type: 'delta'; content: string }
  | { type: 'end'; message: Message }
  | { type: 'stopped'; message: Message };

// What the prompt needs of a message on the turn's path.
export type HistoryMessage = Pick<Message, 'id' | 'role' | 'content' | 'contentTokens' | 'status'>;

// Where in the conversation's message tree a turn starts: after its newest message, after a given
// message (an edit: `parentMessageId`), or beside an answer it regenerates (after that answer's question).
export type TurnAnchor = { kind: 'newest' } | { kind: 'parent'; messageId: string } | { kind: 'regenerate'; messageId: string };

// What a turn needs to know before the model is called, read in one statement.
export interface TurnContext {
  withinBudget: boolean;
  conversationFound: boolean;
  // The conversation's own system prompt, in place of the service-wide one.
  systemPrompt: string | null;
  // The anchor message as found in the conversation (null: none, or not in this conversation);
  // for `newest`, its role is not read.
  anchor: { id: string; role: Role | null } | null;
  // The path to the message the new one follows, oldest first, at most AI_HISTORY_LIMIT messages
  // (a regenerated answer's question on top).
  history: HistoryMessage[];
  // A regenerated answer's question, whole (the turn's user message): the path's last message.
  regeneratedQuestion?: Message | null;
}

export interface NewMessage {
  // The message it follows in the tree; null: the first of its conversation.
  parentId?: string | null;
  role: Role;
  content: string;
  promptTokens?: number | null;
  completionTokens?: number | null;
  contentTokens?: number | null;
  tokens?: number | null;
  costUsd?: number | null;
  tokensEstimated?: boolean;
  model?: string | null;
  status?: MessageStatus;
  idempotencyKey?: string | null;
  flagged?: boolean;
  categories?: string[];
  citations?: Citation[] | null;
}

// A numbered source a retrieval-augmented answer was given (`[index]` in its text).
export interface Citation {
  index: number;
  documentId: string;
  documentTitle: string;
  chunkId: string;
  score: number;
}
