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

// The events with each run of chunk events (`chat:message`, or `message` under SSE) as one whose
// content is the run's text and whose seq (and SSE id) is the run's last: the service passes chunks
// that reached it together as one event, so how many events a text takes depends on timing.
// `seq` must count 1, 2, 3… over the run's events; an event out of order is kept apart.
export function joinChunkEvents<E extends { event: string; id?: string; data: Json }>(events: E[]): E[] {
  const joined: E[] = [];
  for (const event of events) {
    const last = joined.at(-1);
    const isChunk = event.event === 'chat:message' || event.event === 'message';
    if (isChunk && last?.event === event.event && event.data.seq === last.data.seq + 1) {
      joined[joined.length - 1] = { ...event, data: { ...event.data, content: last.data.content + event.data.content } };
    } else {
      joined.push(event);
    }
  }
  return joined;
}
