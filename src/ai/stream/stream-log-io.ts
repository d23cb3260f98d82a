import { Logger } from '@nestjs/common';
import { FOLLOW_CHECK_MS, LOG_READ_COUNT } from './chat-stream.constants';
import type { LogReader } from './chat-stream.types';
import type { StreamLogService } from './stream-log.service';

const logger = new Logger('StreamLog');

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
