// The part of a socket that the stream service needs; keeps it free of Socket.IO types.
export interface StreamClient {
  id: string;
  connected: boolean;
  emit(event: string, payload: unknown): unknown;
}

export type StopReason = 'client' | 'disconnect' | 'shutdown';
