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

export type HistoryMessage = Pick<Message, 'id' | 'role' | 'content' | 'status' | 'contentTokens'>;

// What a turn needs to know before the model is called, read in one statement.
export interface TurnContext {
  withinBudget: boolean;
  conversationFound: boolean;
  // The conversation's own system prompt, in place of the service-wide one.
  systemPrompt: string | null;
  // Oldest first.
  history: HistoryMessage[];
}

export interface NewMessage {
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
