// The chat events of the socket namespace (src/realtime/realtime.constants.ts): the streaming API's
// names, defined once.

export const CHAT_EVENTS = {
  start: 'chat:start',
  regenerate: 'chat:regenerate',
  stop: 'chat:stop',
  resume: 'chat:resume',
  conversation: 'chat:conversation',
  userMessage: 'chat:user-message',
  message: 'chat:message',
  end: 'chat:end',
  stopped: 'chat:stopped',
  error: 'chat:error',
} as const;

export const TERMINAL_EVENTS: readonly string[] = [CHAT_EVENTS.end, CHAT_EVENTS.stopped, CHAT_EVENTS.error];

// A resumable stream's chunks reach Redis in batches: the chunks that arrive within the window, or
// this many, in one entry and one round trip. The window bounds how far a resumed reader trails.
export const LOG_BATCH_WINDOW_MS = 50;
export const LOG_BATCH_MAX_CHUNKS = 64;
// A bound on a log's length in entries (batches), far above any answer's.
export const LOG_MAX_ENTRIES = 100_000;
// A running stream's keys live this long unless its instance renews them (every third of it), so
// the streams of an instance that died stop being listed and their readers learn they are lost.
export const RUNNING_TTL_MS = 60_000;
// How often a reader checks that the stream it follows still exists.
export const FOLLOW_CHECK_MS = 15_000;
// Log entries read per round trip while catching up.
export const LOG_READ_COUNT = 200;
