// The part of a socket (or of an SSE response) that the stream service needs; keeps it free of
// Socket.IO types.
export interface StreamClient {
  id: string;
  connected: boolean;
  emit(event: string, payload: unknown): unknown;
  // Called with a stream's failure before anything was sent; true: the client answered it itself
  // (an SSE response still able to answer with a JSON error).
  failBeforeStart?(error: unknown): boolean;
}

export type StopReason = 'client' | 'disconnect' | 'shutdown' | 'remote';

// A stream as every instance sees it in Redis.
export interface StreamInfo {
  streamId: string;
  userId: string;
  conversationId: string;
  startedAt: string;
  resumable: boolean;
  state: 'running' | 'ended';
}

// An entry of a stream's log: a batch of chunks (`[seq, content]`), or its terminal event.
export type LogEntry = { kind: 'messages'; messages: Array<[number, string]> } | { kind: 'terminal'; event: string; payload: object };

// Routed through Redis to the instance that runs the stream.
export type StreamControl = { type: 'stop'; streamId: string } | { type: 'stop-user'; userId: string };

// Where a reader of a stream's log delivers what it reads. `message` returns false when the
// receiver is full; the reader then waits for `drained` before reading on.
export interface LogReader {
  message(seq: number, content: string): boolean;
  terminal(event: string, payload: object): void;
  drained?(): Promise<void>;
}
