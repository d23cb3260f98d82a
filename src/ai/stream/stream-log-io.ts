import { Logger } from '@nestjs/common';
import { FOLLOW_CHECK_MS, LOG_BATCH_MAX_CHUNKS, LOG_BATCH_WINDOW_MS, LOG_READ_COUNT } from './chat-stream.constants';
import type { LogReader, StreamInfo } from './chat-stream.types';
import type { StreamLogService } from './stream-log.service';

const logger = new Logger('StreamLog');

// Appends a resumable stream's chunks to its log in batches, in order: per chunk only an array push.
export class LogWriter {
  private pending: Array<[number, string]> = [];
  private timer?: NodeJS.Timeout;
  private written = Promise.resolve();
  private isFirst = true;

  constructor(
    private readonly log: StreamLogService,
    private readonly info: StreamInfo,
  ) {}

  append(seq: number, content: string): void {
    this.pending.push([seq, content]);
    if (this.pending.length >= LOG_BATCH_MAX_CHUNKS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), LOG_BATCH_WINDOW_MS);
  }

  // Writes what is pending, then the terminal event; resolves once both are in Redis.
  finish(terminal: { event: string; payload: object }): Promise<void> {
    this.flush();
    this.written = this.written.then(() => this.log.end(this.info, terminal)).catch((error: unknown) => this.warn(error));
    return this.written;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    const isFirst = this.isFirst;
    this.pending = [];
    this.isFirst = false;
    // Chained, so batches land in order even when one round trip is slower than the next window.
    this.written = this.written.then(() => this.log.appendBatch(this.info.streamId, batch, isFirst)).catch((error: unknown) => this.warn(error));
  }

  private warn(error: unknown): void {
    // The stream goes on for its live watchers; only resuming it can miss what was lost.
    logger.warn({ err: error, streamId: this.info.streamId }, 'could not append to a stream log');
  }
}

// Reads a stream's log after `lastSeq` and follows it until its terminal event: subscribed to the
// stream's "appended" channel before the first read, and every read starts after the last entry
// read, so nothing is missed or repeated (chunks at or below the last delivered seq are skipped).
// Returns a function that stops following.
export async function followLog(log: StreamLogService, streamId: string, lastSeq: number, reader: LogReader, onLost: () => void): Promise<() => void> {
  let lastId = '-';
  let delivered = lastSeq;
  let isReading = false;
  let readAgain = false;
  let isClosed = false;
  let unsubscribe: () => void = () => undefined;
  const close = () => {
    if (isClosed) return;
    isClosed = true;
    clearInterval(check);
    unsubscribe();
  };

  // Reads until the log has nothing more; returns true at the terminal event.
  const readAll = async (): Promise<boolean> => {
    for (;;) {
      const entries = await log.read(streamId, lastId, LOG_READ_COUNT);
      for (const { id, entry } of entries) {
        if (isClosed) return true;
        lastId = id;
        if (entry.kind === 'terminal') {
          reader.terminal(entry.event, entry.payload);
          return true;
        }
        for (const [seq, content] of entry.messages) {
          if (seq <= delivered) continue;
          delivered = seq;
          if (!reader.message(seq, content) && reader.drained) await reader.drained();
          if (isClosed) return true;
        }
      }
      if (entries.length < LOG_READ_COUNT) return false;
    }
  };

  const schedule = async (): Promise<void> => {
    if (isReading) {
      readAgain = true;
      return;
    }
    isReading = true;
    try {
      do {
        readAgain = false;
        if (await readAll()) close();
      } while (readAgain && !isClosed);
    } catch (error) {
      // Redis unreachable: the next notification or check reads again from the same place.
      logger.warn({ err: error, streamId }, 'could not read a stream log');
    } finally {
      isReading = false;
    }
  };

  // The stream's instance died before its end: nothing more will come.
  const check = setInterval(() => {
    log
      .exists(streamId)
      .then((exists) => {
        if (isClosed) return;
        if (exists) return void schedule();
        close();
        onLost();
      })
      .catch(() => undefined);
  }, FOLLOW_CHECK_MS);
  check.unref();
  try {
    unsubscribe = await log.onAppend(streamId, () => void schedule());
  } catch (error) {
    clearInterval(check);
    throw error;
  }
  await schedule();
  return close;
}
