import type { INestApplication } from '@nestjs/common';
import { Logger } from '@nestjs/common';

// On SIGTERM/SIGINT: refuse new work, let running streams and jobs finish within the grace period
// (their services wait in their shutdown hooks), close sockets, HTTP, the queue, Prisma and Redis,
// then exit 0. A second signal, or a close that hangs past the deadline, exits 1.
export function handleShutdownSignals(app: INestApplication, graceMs: number): void {
  const logger = new Logger('Shutdown');
  let isClosing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (isClosing) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    isClosing = true;
    logger.log(`${signal} received: draining (grace ${graceMs} ms)`);
    setTimeout(() => {
      logger.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, graceMs + 15_000).unref();
    app
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
