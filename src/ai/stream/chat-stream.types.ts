// The part of a socket that the stream service needs; keeps it free of Socket.IO types.
export interface StreamClient {
  id: string;
  connected: boolean;
  emit(event: string, payload: unknown): unknown;
}

export type StopReason = 'client' | 'disconnect' | 'shutdown';

// What a stream runs: a new message (`chat:start`) or a new answer to an earlier question (`chat:regenerate`).
export type StreamKind = 'start' | 'regenerate';
