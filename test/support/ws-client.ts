import { io, Socket } from 'socket.io-client';
import type { Json } from './json';

export interface RecordedEvent {
  event: string;
  data: Json;
}

export const TERMINAL_EVENTS = ['chat:end', 'chat:stopped', 'chat:error'];

// Connects to the /ai namespace the way the guide's client does; rejects with the connect_error message.
export function connectSocket(baseUrl: string, token?: string, options: { forceNew?: boolean } = {}): Promise<Socket> {
  const socket = io(`${baseUrl}/ai`, {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: options.forceNew ?? true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

// Records every server event in arrival order.
export function recordEvents(socket: Socket): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  socket.onAny((event: string, data: unknown) => events.push({ event, data }));
  return events;
}

export function waitForEvent(events: RecordedEvent[], name: string | string[], timeoutMs = 5_000): Promise<RecordedEvent> {
  const names = Array.isArray(name) ? name : [name];
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      const found = events.find((e) => names.includes(e.event));
      if (found) return resolve(found);
      if (Date.now() > deadline) return reject(new Error(`no ${names.join('/')} within ${timeoutMs} ms; got ${events.map((e) => e.event).join(', ')}`));
      setTimeout(poll, 5);
    };
    poll();
  });
}

export const waitForTerminal = (events: RecordedEvent[], timeoutMs?: number) => waitForEvent(events, TERMINAL_EVENTS, timeoutMs);

export const streamedText = (events: RecordedEvent[]) =>
  events
    .filter((e) => e.event === 'chat:message')
    .map((e) => e.data.content)
    .join('');
